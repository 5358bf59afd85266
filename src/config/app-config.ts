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
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @IsInt() @Min(1) @Max(65535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  @Matches(/^postgres(ql)?:\/\//, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/reelrank';

  @IsInt() @Min(1) @Max(200)
  DATABASE_POOL_SIZE = 10;

  @Matches(/^rediss?:\/\//, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Comma-separated host:port list; when set, Redis is used in cluster mode. */
  @IsOptional() @Matches(/^[^,:\s]+:\d+(,[^,:\s]+:\d+)*$/, { message: 'REDIS_CLUSTER_NODES must be host:port[,host:port...]' })
  REDIS_CLUSTER_NODES?: string;

  /** Prefix for every Redis key and BullMQ queue: lets several deployments or test runs share one Redis. */
  @Matches(/^[a-z0-9_-]{1,32}$/, { message: 'REDIS_PREFIX must be 1-32 chars of a-z, 0-9, _ or -' })
  REDIS_PREFIX = 'rr';

  @IsString() @MinLength(16, { message: 'JWT_SECRET must be at least 16 characters' })
  JWT_SECRET = 'reelrank-dev-secret-change-me';

  /** PEM-encoded public key (RS256/ES256); when set, client tokens are verified with it instead of JWT_SECRET. */
  @IsOptional() @IsString()
  JWT_PUBLIC_KEY?: string;

  @IsOptional() @Matches(/^https?:\/\//, { message: 'JWT_JWKS_URL must be an http(s) URL' })
  JWT_JWKS_URL?: string;

  @IsString() @MinLength(8, { message: 'ADMIN_API_KEY must be at least 8 characters' })
  ADMIN_API_KEY = 'reelrank-admin-dev-key';

  @Transform(toBool) @IsBoolean()
  DEMO_MODE = false;

  @IsInt() @Min(4) @Max(512)
  EMBEDDING_DIM = 32;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  @IsInt() @Min(1) @Max(10_000)
  EVENTS_MAX_BATCH = 500;

  @IsInt() @Min(1) @Max(64)
  WORKER_CONCURRENCY = 8;

  @IsNumber() @Min(1) @Max(1000)
  FEED_BUDGET_MS = 50;

  /** Largest request body accepted (bytes); larger bodies get 413. */
  @IsInt() @Min(1024) @Max(64 * 1024 * 1024)
  BODY_LIMIT_BYTES = 1024 * 1024;

  /** Deepest nesting of objects/arrays accepted in a JSON body; deeper bodies get 400. */
  @IsInt() @Min(2) @Max(1000)
  JSON_MAX_DEPTH = 32;

  /** Proxies whose X-Forwarded-For is believed (client IP for rate limits): addresses/CIDRs, loopback, uniquelocal, or true/false. */
  @IsString()
  TRUST_PROXY = 'loopback,linklocal,uniquelocal';

  /** Rate limiting of the api (429 with Retry-After); off for benchmarks. */
  @Transform(toBool) @IsBoolean()
  THROTTLE_ENABLED = true;

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
  for (const key of Object.keys(new AppConfig()).concat(['REDIS_CLUSTER_NODES', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL'])) {
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
