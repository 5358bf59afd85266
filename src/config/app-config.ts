import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

const toBool = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? ['1', 'true', 'yes', 'on'].includes(value.toLowerCase()) : value;

/**
 * Every setting the processes read, validated once at boot. Each property is an
 * environment variable of the same name; the initialiser is its default.
 */
export class AppConfig {
  /** Passed on to dependencies (the Docker image sets production); the app behaves the same in each. */
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  /** HTTP port of the api. */
  @IsInt() @Min(1) @Max(65535)
  PORT = 3000;

  /** Address the api (and the worker's metrics endpoint) listens on. */
  @IsString()
  HOST = '0.0.0.0';

  /** Postgres connection URL. */
  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/reelrank';

  /** Postgres connections per process. */
  @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE = 10;

  /** Redis connection URL (single node; see REDIS_CLUSTER_NODES). */
  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Comma-separated host:port list; when set, Redis is used in cluster mode. */
  @IsOptional() @Matches(/^[^,:\s]+:\d+(,[^,:\s]+:\d+)*$/, { message: 'REDIS_CLUSTER_NODES must be host:port[,host:port...]' })
  REDIS_CLUSTER_NODES?: string;

  /** Prefix for every Redis key and BullMQ queue: lets several deployments or test runs share one Redis. */
  @Matches(/^[a-z0-9_-]{1,32}$/, { message: 'REDIS_PREFIX must be 1-32 chars of a-z, 0-9, _ or -' })
  REDIS_PREFIX = 'rr';

  /** HS256 secret client tokens are signed with; also keys the feed cursors. Change it outside development. */
  @IsString() @MinLength(16, { message: 'JWT_SECRET must be at least 16 characters' })
  JWT_SECRET = 'reelrank-dev-secret-change-me';

  /** PEM-encoded public key (RS256/ES256); when set, client tokens are verified with it instead of JWT_SECRET. */
  @IsOptional() @IsString()
  JWT_PUBLIC_KEY?: string;

  /** JWKS endpoint of an identity provider; when set, client tokens are verified with its keys. */
  @IsOptional() @Matches(/^https?:\/\//, { message: 'JWT_JWKS_URL must be an http(s) URL' })
  JWT_JWKS_URL?: string;

  /** The one algorithm client tokens may use; unset: HS256 with JWT_SECRET, ES256/RS256 by the size of JWT_PUBLIC_KEY, RS256 for JWT_JWKS_URL. */
  @IsOptional() @IsIn(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])
  JWT_ALGORITHM?: string;

  /** Longest lifetime a client token may have: its exp must be at most this far past its iat (or now). Tokens without exp are refused. */
  @IsInt() @Min(60) @Max(366 * 86_400)
  JWT_MAX_LIFETIME_S = 86_400;

  /** Verified tokens remembered (until their exp, at most 5 min) so a signature is checked once per token, not per request; 0 turns it off. */
  @IsInt() @Min(0) @Max(10_000_000)
  JWT_CACHE_SIZE = 100_000;

  /** Value of the x-api-key header the admin endpoints require. Change it outside development. */
  @IsString() @MinLength(8, { message: 'ADMIN_API_KEY must be at least 8 characters' })
  ADMIN_API_KEY = 'reelrank-admin-dev-key';

  /** Serves the demo page, its endpoints and POST /v1/demo/token (mints client tokens): never in production. */
  @Transform(toBool) @IsBoolean()
  DEMO_MODE = false;

  /** Length of the user and video embeddings (content embeddings sent with videos must match). */
  @IsInt() @Min(4) @Max(512)
  EMBEDDING_DIM = 32;

  /** Log level of the JSON logs (pino). */
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Most events accepted in one POST /v1/events. */
  @IsInt() @Min(1) @Max(10_000)
  EVENTS_MAX_BATCH = 500;

  /** How long accepted event ids are remembered for dedupe. */
  @IsInt() @Min(60) @Max(30 * 86_400)
  EVENTS_DEDUPE_TTL_SECONDS = 21_600;

  /** Jobs of the events queue a worker process runs at once (they mostly wait on Redis and Postgres). */
  @IsInt() @Min(1) @Max(512)
  EVENTS_CONCURRENCY = 32;

  /**
   * How long a job's applied marker is kept with its videos: covers automatic retries and
   * crash recovery; later dead-letter replays rely on the progress the job recorded.
   */
  @IsInt() @Min(60) @Max(7 * 86_400)
  EVENTS_APPLIED_MARKER_TTL_SECONDS = 3600;

  /** Events per queue job: a request's accepted events are split into jobs of at most this many. */
  @IsInt() @Min(1) @Max(500)
  EVENTS_JOB_SIZE = 100;

  /**
   * Fewest attempts per event/log job before it becomes a dead letter; raised to as many as
   * it takes for the retries to outlast QUEUE_FAILOVER_BUDGET_MS.
   */
  @IsInt() @Min(1) @Max(200)
  EVENTS_JOB_ATTEMPTS = 8;

  /** First retry delay of a failed event or log job (doubles each attempt, up to QUEUE_RETRY_MAX_DELAY_MS). */
  @IsInt() @Min(10) @Max(600_000)
  EVENTS_RETRY_DELAY_MS = 250;

  /** Longest delay between two attempts of an event or log job. */
  @IsInt() @Min(10) @Max(600_000)
  QUEUE_RETRY_MAX_DELAY_MS = 5000;

  /**
   * Outage of Redis (a cluster failover) or Postgres that a failing event job's retries outlast
   * before it can become a dead letter: the attempts are counted from it (see EVENTS_JOB_ATTEMPTS).
   */
  @IsInt() @Min(0) @Max(3_600_000)
  QUEUE_FAILOVER_BUDGET_MS = 60_000;

  /**
   * Event queues, each with its own hash tag (so on Redis Cluster each can live on another
   * master); a user's events always go to the same one, in order. 0: 1 on a single node,
   * 12 with REDIS_CLUSTER_NODES. Drain the queues before changing it: users move between shards.
   */
  @IsInt() @Min(0) @Max(256)
  EVENT_QUEUE_SHARDS = 0;

  /** The event queue shards this worker consumes, as numbers and ranges ("0-3,6"); empty: all of them. */
  @Matches(/^$|^\d+(-\d+)?(,\d+(-\d+)?)*$/, { message: 'WORKER_SHARDS must be shard numbers or ranges like 0-3,6' })
  WORKER_SHARDS = '';

  /** Retry-After (seconds) of a 503 from POST /v1/events when the user's queue shard or Redis slot is unavailable. */
  @IsInt() @Min(1) @Max(3600)
  EVENTS_RETRY_AFTER_SECONDS = 5;

  /** Earliest instant any client timestamp (an event's occurredAt, a video's createdAt, an import row) may name. */
  @Matches(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z)?$/, { message: 'TIMESTAMP_MIN must be a UTC date or date-time like 2000-01-01' })
  TIMESTAMP_MIN = '1970-01-01';

  /** How far in the future a client timestamp may be (device clocks run ahead) before it is refused. */
  @IsInt() @Min(0) @Max(86_400_000)
  TIMESTAMP_MAX_SKEW_MS = 300_000;

  /**
   * How long POST /v1/events waits for Redis to check and queue a batch before it answers
   * 503 (retry). A command in flight when Redis drops would otherwise wait for the
   * reconnection, holding the request for the whole outage.
   */
  @IsInt() @Min(10) @Max(60_000)
  EVENTS_QUEUE_BUDGET_MS = 2000;

  /** Videos remembered per user in the seen set. */
  @IsInt() @Min(10) @Max(100_000)
  USER_SEEN_MAX = 2000;

  /** Videos kept in each trending sorted set. */
  @IsInt() @Min(10) @Max(10_000_000)
  TRENDING_MAX = 10_000;

  /** How long a crashed worker's job stays locked before another worker takes it over (BullMQ lockDuration). */
  @IsInt() @Min(500) @Max(600_000)
  WORKER_LOCK_MS = 30_000;

  /** Port of the worker's Prometheus /metrics endpoint; 0 disables it. */
  @IsInt() @Min(0) @Max(65535)
  WORKER_METRICS_PORT = 9464;

  /** Time budget of each candidate source (a source that has not answered by then is dropped) and of the follows/blocks read. */
  @IsNumber() @Min(1) @Max(1000)
  FEED_BUDGET_MS = 50;

  /** Candidates ranked per feed request (after filters). */
  @IsInt() @Min(10) @Max(5000)
  FEED_CANDIDATES = 500;

  /** Budget for each Redis read on the feed path; slower reads degrade to in-memory fallbacks. */
  @IsNumber() @Min(1) @Max(1000)
  FEED_REDIS_BUDGET_MS = 25;

  /**
   * How long a feed waits for a user's blocked creators when neither they nor the set of
   * every blocked creator could be read yet (Postgres unreachable since boot); past it the
   * feed answers 503 rather than risk showing a blocked creator.
   */
  @IsNumber() @Min(1) @Max(60_000)
  FEED_BLOCKS_WAIT_MS = 2000;

  /**
   * How long an api may reuse a video's online stats (views, likes, ...) fetched for an
   * earlier feed request. Changed stats are announced by the worker and refetched at once;
   * this only bounds staleness when an announcement is lost. 0 reads them on every request.
   */
  @IsInt() @Min(0) @Max(600_000)
  FEED_STATS_MAX_AGE_MS = 30_000;

  /** How long a feed session (its served ids, for paging) is remembered. */
  @IsInt() @Min(60) @Max(7 * 86_400)
  FEED_SESSION_TTL_S = 3600;

  /** Diversity: at most this many items of one creator per page. */
  @IsInt() @Min(1) @Max(50)
  FEED_MAX_PER_CREATOR = 2;

  /** Share of each page reserved for exploration (new videos with few impressions). */
  @IsNumber() @Min(0) @Max(0.5)
  FEED_EXPLORATION_SHARE = 0.1;

  /**
   * Candidate sources' shares of FEED_CANDIDATES, `name:share` pairs (`ann:0.3,fresh:0`).
   * A source not listed keeps its class's default share, `name:0` turns it off; the
   * enabled sources' shares are normalised to sum to 1. Names are checked against the
   * registered sources when the feed starts.
   */
  @Matches(/^(\s*[a-z0-9_-]+\s*:\s*\d+(\.\d+)?\s*(,\s*[a-z0-9_-]+\s*:\s*\d+(\.\d+)?\s*)*)?$/, {
    message: 'FEED_SOURCES must look like ann:0.3,trending:0.2,fresh:0 (source:share pairs, share >= 0)',
  })
  FEED_SOURCES = '';

  /** Diversity: a page holds at most this share of one category while other categories can fill it. */
  @IsNumber() @Min(0.05) @Max(1)
  FEED_MAX_CATEGORY_SHARE = 0.35;

  /** The category source draws from the user's top N categories by affinity. */
  @IsInt() @Min(1) @Max(50)
  FEED_TOP_CATEGORIES = 3;

  /** A video stops being explored once it has this many impressions. */
  @IsInt() @Min(1)
  FEED_EXPLORATION_IMPRESSION_CAP = 500;

  /** Blend of the model's heads into one score: head=weight pairs; unknown heads weigh 0, skip is negative. */
  @Matches(/^\s*[a-z0-9_]+\s*=\s*-?\d+(\.\d+)?\s*(,\s*[a-z0-9_]+\s*=\s*-?\d+(\.\d+)?\s*)*$/, {
    message: 'RANK_WEIGHTS must look like like=1,complete=0.7,share=1.5,skip=-1',
  })
  RANK_WEIGHTS = 'engage=1,like=1,complete=0.7,share=1.5,skip=-1';

  /** Three scorings in a row slower than this open the model's circuit breaker (heuristic ranking for a few seconds). */
  @IsNumber() @Min(1) @Max(10_000)
  MODEL_SLOW_MS = 50;

  /** How often the api re-checks the active model in Postgres (in case a pub/sub message was missed). */
  @IsInt() @Min(1000)
  MODEL_POLL_MS = 30_000;

  /** Graph degree of the HNSW index over catalog embeddings (the ann candidate source). */
  @IsInt() @Min(4) @Max(64)
  ANN_M = 16;

  /** Beam width of the HNSW index build: higher is slower to build and finds closer neighbours. */
  @IsInt() @Min(10) @Max(1000)
  ANN_EF_CONSTRUCTION = 100;

  /** Beam width of an HNSW query: higher is slower and finds closer neighbours. */
  @IsInt() @Min(10) @Max(1000)
  ANN_EF_SEARCH = 100;

  /** Impressions are written to Postgres in batches at least this often. */
  @IsInt() @Min(10) @Max(60_000)
  IMPRESSION_FLUSH_MS = 500;

  /** Scheduled retraining interval on the training queue: `off` or a duration such as 30m, 2h, 1d. */
  @Matches(/^(off|[1-9]\d*(ms|s|m|h|d))$/, { message: 'RETRAIN_EVERY must be off or a duration like 30m, 2h, 1d' })
  RETRAIN_EVERY = 'off';

  /** Training window: impressions and engagement of the last N hours of the interaction log. */
  @IsNumber() @Min(0.1) @Max(24 * 365)
  RETRAIN_WINDOW_HOURS = 168;

  /** User/video state is replayed from this many hours before the window (0 = the whole log). */
  @IsNumber() @Min(0) @Max(24 * 3650)
  TRAIN_STATE_LOOKBACK_HOURS = 0;

  /** Engagement counts as the outcome of an impression if it follows it within this many minutes. */
  @IsNumber() @Min(0.1) @Max(24 * 60)
  TRAIN_LABEL_WINDOW_MINUTES = 30;

  /** Share of the window's impressions (the most recent ones) held out for evaluation. */
  @IsNumber() @Min(0.05) @Max(0.5)
  TRAIN_HOLDOUT_FRACTION = 0.2;

  /**
   * Item-embedding refits through the training part: each training row uses the vectors
   * fitted on the log before its refit point (as serving had them), never its own outcome.
   */
  @IsInt() @Min(1) @Max(24)
  TRAIN_EMBEDDING_REFRESHES = 4;

  /**
   * Positions (next engaged videos to predict) the serving sequence-model fit trains on
   * in all: epochs are this over the log's positions (at most 20), and a larger log is cut
   * down to it, so the cost is bounded. 0 = no sequence model.
   */
  @IsInt() @Min(0) @Max(100_000_000)
  TRAIN_SEQUENCE_POSITIONS = 600_000;

  /** Most passes over the training rows; training stops earlier when validation loss stops improving. */
  @IsInt() @Min(1) @Max(500)
  TRAIN_EPOCHS = 30;

  /** Hidden layer sizes of the ranker MLP, comma-separated. */
  @Matches(/^\d{1,4}(,\d{1,4}){0,4}$/, { message: 'TRAIN_HIDDEN_LAYERS must be sizes like 64,32' })
  TRAIN_HIDDEN_LAYERS = '64,32';

  /** Model inputs (feature registry names, comma-separated); empty = DEFAULT_TRAIN_FEATURES (all but the session-scaled ones). */
  @IsString()
  TRAIN_FEATURES = '';

  /** Activate a newly trained model when it beats the active one on held-out NDCG@10 (or none is active). */
  @Transform(toBool) @IsBoolean()
  MODEL_AUTO_PROMOTE = true;

  /** Minimum held-out NDCG@10 gain over the active model required for auto-promotion. */
  @IsNumber() @Min(0) @Max(1)
  MODEL_PROMOTE_MIN_GAIN = 0;

  /** Share of users (by a stable hash of the user id) served by the shadow model instead of the active one: an A/B split. 0 = shadow only scores alongside. */
  @IsNumber() @Min(0) @Max(1)
  MODEL_AB_SHARE = 0;

  /** Share of the active model's feed requests the shadow model also scores in the background, to compare rankings. */
  @IsNumber() @Min(0) @Max(1)
  MODEL_SHADOW_SAMPLE = 0.2;

  /** Largest ONNX file accepted by POST /v1/admin/models. */
  @IsInt() @Min(1024) @Max(1024 * 1024 * 1024)
  MODEL_UPLOAD_MAX_BYTES = 64 * 1024 * 1024;

  /** Largest request body accepted (bytes); larger bodies get 413. */
  @IsInt() @Min(1024) @Max(64 * 1024 * 1024)
  BODY_LIMIT_BYTES = 1024 * 1024;

  /** Deepest nesting of objects/arrays accepted in a JSON body; deeper bodies get 400. */
  @IsInt() @Min(2) @Max(1000)
  JSON_MAX_DEPTH = 32;

  /**
   * Proxies whose X-Forwarded-For is believed (client IP for rate limits): addresses/CIDRs,
   * loopback, uniquelocal, or true/false. Off by default: any client could otherwise name its own IP.
   */
  @IsString()
  TRUST_PROXY = 'false';

  /** A client that has not sent its request headers within this long is cut off (408). */
  @IsInt() @Min(100) @Max(600_000)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** A client that has not sent its whole request (headers and body) within this long is cut off (408). */
  @IsInt() @Min(100) @Max(3_600_000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /** Port serving GET /metrics apart from the api (then not served on PORT); 0 serves it on PORT. */
  @IsInt() @Min(0) @Max(65535)
  METRICS_PORT = 0;

  /** When set, GET /metrics on the api port answers only requests with `Authorization: Bearer <METRICS_TOKEN>`. */
  @IsOptional() @IsString() @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  METRICS_TOKEN?: string;

  /** Rate limiting of the api (429 with Retry-After); off for benchmarks. */
  @Transform(toBool) @IsBoolean()
  THROTTLE_ENABLED = true;

  /** A rate-limit sync that Redis has not answered within this many ms is given up: its hits count on this instance only. */
  @IsInt() @Min(1) @Max(10_000)
  THROTTLE_REDIS_TIMEOUT_MS = 100;

  /** Each api instance counts hits at once and adds them to the shared counts in Redis this often (ms); other instances see them that much later. */
  @IsInt() @Min(1) @Max(10_000)
  THROTTLE_SYNC_MS = 50;

  /** Rate-limit window in seconds. */
  @IsInt() @Min(1) @Max(86_400)
  THROTTLE_WINDOW_S = 60;

  /** Requests per window from one client IP (all users behind it together). */
  @IsInt() @Min(1)
  THROTTLE_IP_LIMIT = 6000;

  /** Requests per window from one authenticated user (JWT subject). */
  @IsInt() @Min(1)
  THROTTLE_USER_LIMIT = 1200;

  /** On SIGTERM, how long /health/ready answers 503 while still serving, so load balancers stop sending first. */
  @IsInt() @Min(0) @Max(120_000)
  SHUTDOWN_DRAIN_DELAY_MS = 0;

  /** A shutdown that has not finished after this long exits the process anyway (code 1). */
  @IsInt() @Min(1000) @Max(600_000)
  SHUTDOWN_TIMEOUT_MS = 25_000;

  /** Drift check interval on the monitoring queue: `off` or a duration such as 30s, 1m, 1h. */
  @Matches(/^(off|\d+(ms|s|m|h|d))$/, { message: 'DRIFT_CHECK_EVERY must be off or a duration like 30s, 1m, 1h' })
  DRIFT_CHECK_EVERY = '1m';

  /** Live distributions are taken from the impressions served in the last N minutes. */
  @IsNumber() @Min(1) @Max(7 * 24 * 60)
  DRIFT_WINDOW_MINUTES = 60;

  /** A feature or score head whose PSI exceeds this raises a drift alert (0.1 moderate, 0.2+ significant). */
  @IsNumber() @Min(0) @Max(100)
  DRIFT_ALERT_PSI = 0.2;

  /** Fewer live impressions than this in the window gives an `insufficient_data` report instead of PSI values. */
  @IsInt() @Min(1)
  DRIFT_MIN_SAMPLES = 200;

  /** At most this many of the most recent impressions are used per check. */
  @IsInt() @Min(100) @Max(1_000_000)
  DRIFT_MAX_SAMPLES = 50_000;

  /** Broker the `stream` process consumes interaction events from: RabbitMQ locally, Kafka in production. */
  @IsIn(['rmq', 'kafka'])
  STREAM_TRANSPORT: 'rmq' | 'kafka' = 'rmq';

  /** RabbitMQ URL of the stream process (STREAM_TRANSPORT=rmq). */
  @Matches(/^amqps?:\/\//, { message: 'STREAM_RMQ_URL must be an amqp:// URL' })
  STREAM_RMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';

  /** RabbitMQ quorum queue the stream consumes; rejected messages go to `<queue>.dead`. */
  @Matches(/^[A-Za-z0-9._-]{1,200}$/, { message: 'STREAM_RMQ_QUEUE must be 1-200 chars of A-Z, a-z, 0-9, ., _ or -' })
  STREAM_RMQ_QUEUE = 'reelrank.interactions';

  /** Comma-separated Kafka bootstrap brokers (host:port). */
  @Matches(/^[^,:\s]+:\d+(,[^,:\s]+:\d+)*$/, { message: 'STREAM_KAFKA_BROKERS must be host:port[,host:port...]' })
  STREAM_KAFKA_BROKERS = '127.0.0.1:9092';

  /** Kafka consumer group of the stream processes. */
  @Matches(/^[A-Za-z0-9._-]{1,200}$/, { message: 'STREAM_KAFKA_GROUP must be 1-200 chars of A-Z, a-z, 0-9, ., _ or -' })
  STREAM_KAFKA_GROUP = 'reelrank-stream';

  /** Messages in flight per stream process (RabbitMQ prefetch; Kafka partitions consumed concurrently). */
  @IsInt() @Min(1) @Max(1000)
  STREAM_CONCURRENCY = 32;

  /** Pause before a message whose ingest failed (e.g. Redis down) is handed back to the broker for redelivery. */
  @IsInt() @Min(0) @Max(60_000)
  STREAM_RETRY_DELAY_MS = 1000;
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

const NUMERIC_KEYS = new Set(
  Object.entries(new AppConfig())
    .filter(([, v]) => typeof v === 'number')
    .map(([k]) => k),
);

/** Reads the environment into an AppConfig, or throws naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(new AppConfig()).concat(['REDIS_CLUSTER_NODES', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL', 'JWT_ALGORITHM', 'METRICS_TOKEN'])) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    raw[key] = NUMERIC_KEYS.has(key) && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  }
  const config = plainToInstance(AppConfig, raw, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true, forbidUnknownValues: false });
  if (errors.length > 0) {
    throw new ConfigValidationError(
      errors.map((e) => `${e.property}=${JSON.stringify(e.value)}: ${Object.values(e.constraints ?? {}).join('; ')}`),
    );
  }
  return config;
}
