import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { AnyRedis, closeRedisClient, createRedisClient } from './redis-connection';
import { REDIS } from './redis.constants';

type Handler = (message: string) => void | Promise<void>;

/**
 * Redis pub/sub over one dedicated subscriber connection per process (a subscribed
 * connection cannot run other commands). Handlers are re-attached after reconnects
 * by ioredis itself.
 */
@Injectable()
export class PubSubService implements OnApplicationShutdown {
  private readonly logger = new Logger(PubSubService.name);
  private subscriber: AnyRedis | null = null;
  private readonly handlers = new Map<string, Handler[]>();
  private readonly reconnectListeners: (() => void)[] = [];
  private connectedOnce = false;

  constructor(
    private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: AnyRedis,
  ) {}

  async publish(channel: string, message: string): Promise<void> {
    await this.redis.publish(channel, message);
  }

  async subscribe(channel: string, handler: Handler): Promise<void> {
    if (!this.subscriber) {
      this.subscriber = createRedisClient(this.config, { maxRetriesPerRequest: null });
      this.subscriber.on('message', (ch: string, msg: string) => this.dispatch(ch, msg));
      this.subscriber.on('error', (err: Error) => this.logger.warn(`subscriber: ${err.message}`));
      this.subscriber.on('ready', () => {
        if (this.connectedOnce) for (const listener of this.reconnectListeners) listener();
        this.connectedOnce = true;
      });
    }
    const list = this.handlers.get(channel);
    if (list) list.push(handler);
    else {
      this.handlers.set(channel, [handler]);
      await this.subscriber.subscribe(channel);
    }
  }

  /**
   * Called each time the subscriber connection is back after a loss (ioredis then
   * subscribes again): whatever was published meanwhile was not received.
   */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  private dispatch(channel: string, message: string): void {
    for (const handler of this.handlers.get(channel) ?? []) {
      Promise.resolve()
        .then(() => handler(message))
        .catch((err: Error) => this.logger.error(`handler for ${channel} failed: ${err.message}`));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.subscriber) await closeRedisClient(this.subscriber);
  }
}
