import { Inject, Injectable, OnApplicationShutdown, Provider } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AnyRedis, createRedisClient, logClientErrors } from '../redis/redis-connection';
import { APPLY_VIDEOS_LUA, COMMIT_USER_LUA, MARK_ACCEPTED_LUA } from './redis-scripts';

type Arg = string | number | Buffer;

/** The event pipeline's Redis connection, with its Lua scripts as commands. */
export type EventsRedis = AnyRedis & {
  rrMarkAccepted(key: string, ...args: Arg[]): Promise<number[]>;
  rrCommitUser(state: string, applied: string, seen: string, meta: string, ...args: Arg[]): Promise<number>;
  /** First argument: the number of keys (3 per video). */
  rrApplyVideosBuffer(numKeys: number, ...keysAndArgs: Arg[]): Promise<(Buffer | null)[]>;
};

export const EVENTS_REDIS = Symbol('EVENTS_REDIS');

/**
 * A connection of its own with auto-pipelining: every command issued in the same tick
 * (e.g. one Lua call per video of a job) goes out in one write, grouped per node on a
 * cluster, without the callers building pipelines by hand.
 */
export const eventsRedisProvider: Provider = {
  provide: EVENTS_REDIS,
  inject: [AppConfig],
  useFactory: (config: AppConfig): EventsRedis => {
    // Cluster auto-pipelining routes a command by its first argument; rrApplyVideos starts
    // with its key count, not a key, so it is sent on its own (to its keys' node).
    const redis = logClientErrors(
      createRedisClient(config, { enableAutoPipelining: true, maxRetriesPerRequest: 2 }, { autoPipeliningIgnoredCommands: ['rrApplyVideos'] }),
      'events',
    );
    redis.defineCommand('rrMarkAccepted', { numberOfKeys: 1, lua: MARK_ACCEPTED_LUA });
    redis.defineCommand('rrCommitUser', { numberOfKeys: 4, lua: COMMIT_USER_LUA });
    redis.defineCommand('rrApplyVideos', { lua: APPLY_VIDEOS_LUA });
    return redis as EventsRedis;
  },
};

@Injectable()
export class EventsRedisLifecycle implements OnApplicationShutdown {
  constructor(@Inject(EVENTS_REDIS) private readonly redis: EventsRedis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
