import { Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { FlushOnShutdown, ShutdownService } from './shutdown.service';
import { LifecycleModule } from './lifecycle.module';

const events: string[] = [];

@Injectable()
class BufferedWriter implements FlushOnShutdown {
  buffered = ['row-1', 'row-2'];
  async flushOnShutdown(): Promise<void> {
    await new Promise((r) => setTimeout(r, 20));
    events.push(`flushed ${this.buffered.splice(0).join(',')}`);
  }
}

@Injectable()
class FailingWriter implements FlushOnShutdown {
  async flushOnShutdown(): Promise<void> {
    events.push('failing writer tried');
    throw new Error('disk full');
  }
}

/** Stands for Postgres/Redis: closes its connection in onApplicationShutdown. */
@Injectable()
class Connection implements OnApplicationShutdown {
  onApplicationShutdown(): void {
    events.push('connection closed');
  }
}

@Module({ providers: [BufferedWriter, FailingWriter, Connection] })
class FeatureModule {}

describe(ShutdownService.name, () => {
  it('flushes every FlushOnShutdown provider once, before connections close, even when one fails', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ConfigModule, LifecycleModule, FeatureModule] })
      .overrideProvider(AppConfig)
      .useValue(Object.assign(new AppConfig(), { SHUTDOWN_DRAIN_DELAY_MS: 0 }))
      .compile();
    const app = moduleRef;
    await app.init();
    const shutdown = app.get(ShutdownService);
    expect(shutdown.isDraining).toBe(false);
    await app.close();
    expect(shutdown.isDraining).toBe(true);
    expect(events).toEqual(['failing writer tried', 'flushed row-1,row-2', 'connection closed']);
    expect(app.get(BufferedWriter).buffered).toEqual([]);
  });
});
