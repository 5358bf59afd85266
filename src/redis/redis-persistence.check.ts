import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { AnyRedis } from './redis-connection';
import { REDIS } from './redis.constants';

/**
 * Warns at boot when Redis keeps no append-only file. The events queue, the dedupe
 * window and the online features live in Redis: a restart of a Redis without AOF comes
 * back empty, and events accepted (202) but not yet processed are lost
 * (RELIABILITY.md, "Redis restarted"). Managed Redis services often refuse CONFIG; then
 * nothing is said.
 */
@Injectable()
export class RedisPersistenceCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger(RedisPersistenceCheck.name);

  constructor(@Inject(REDIS) private readonly redis: AnyRedis) {}

  async onApplicationBootstrap(): Promise<void> {
    const nodes = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    for (const node of nodes) {
      const reply = (await node.config('GET', 'appendonly').catch(() => null)) as string[] | null;
      if (reply?.[1] === 'no') {
        this.logger.warn(
          `Redis ${node.options.host}:${node.options.port} runs without the append-only file (appendonly no): ` +
            'a Redis restart loses events accepted but not yet processed, and the online features (rebuild them with npm run replay)',
        );
        return;
      }
    }
  }
}
