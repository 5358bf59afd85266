import { Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import { ConfigModule } from '../config/config.module';
import { ClosableWorker, closeWithin, FlushOnShutdown, ShutdownService, WorkersOnShutdown } from './shutdown.service';
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

  it('closes the workers of WorkersOnShutdown providers before flushing, and goes on without one still closing at half the timeout', async () => {
    events.length = 0;
    const order: string[] = [];
    const stuck = { name: 'events-3', close: () => new Promise<void>(() => undefined) };
    const quick = { name: 'events-1', close: async () => void (await new Promise((r) => setTimeout(r, 30)), order.push('events-1 closed')) };
    @Injectable()
    class Consumer implements WorkersOnShutdown {
      stopped = 0;
      stopWorkers(): ClosableWorker[] {
        this.stopped++;
        return [quick, stuck];
      }
    }
    @Injectable()
    class Writer implements FlushOnShutdown {
      async flushOnShutdown(): Promise<void> {
        order.push('flushed');
      }
    }
    @Module({ providers: [Consumer, Writer] })
    class WorkerModule {}
    const app = await Test.createTestingModule({ imports: [ConfigModule, LifecycleModule, WorkerModule] })
      .overrideProvider(AppConfig)
      .useValue(Object.assign(new AppConfig(), { SHUTDOWN_DRAIN_DELAY_MS: 0, SHUTDOWN_TIMEOUT_MS: 2000 }))
      .compile();
    await app.init();
    const warn = jest.spyOn((app.get(ShutdownService) as unknown as { logger: { warn: (m: string) => void } }).logger, 'warn');
    const started = Date.now();
    await app.close();
    const took = Date.now() - started;
    expect(order).toEqual(['events-1 closed', 'flushed']);
    expect(app.get(Consumer).stopped).toBe(1);
    expect(took).toBeGreaterThanOrEqual(990);
    expect(took).toBeLessThan(1900);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^1 queue worker\(s\) still closing after \d+ ms \(events-3\)/));
  });
});

describe(closeWithin.name, () => {
  it('resolves as soon as every worker closed (a failed close counts), or at the deadline with the names still closing', async () => {
    const after = (ms: number, fail = false) => () => new Promise<void>((resolve, reject) => setTimeout(() => (fail ? reject(new Error('x')) : resolve()), ms));
    let started = Date.now();
    expect(await closeWithin([{ name: 'a', close: after(10) }, { name: 'b', close: after(20, true) }], 5000)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1000);
    started = Date.now();
    expect(await closeWithin([{ name: 'a', close: after(10) }, { name: 'b', close: after(400) }], 100)).toEqual(['b']);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
