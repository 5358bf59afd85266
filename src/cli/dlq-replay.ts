import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { CoreModule } from '../app/core.module';
import { loadConfig } from '../config/app-config';
import { exitOnConfigError } from '../config/exit-on-config-error';
import { EventQueuesRepository } from '../events/event-queues.repository';
import { EventsModule } from '../events/events.module';

@Module({ imports: [CoreModule, EventsModule] })
class DeadLetterCommandModule {}

/**
 * `npm run dlq:replay [-- --list]`: puts every dead letter (a job that failed its last
 * attempt) of the events and interactions queues back on its queue with fresh attempts.
 * Processing is idempotent, so replaying a job whose effect partly happened is safe.
 */
async function main(): Promise<void> {
  exitOnConfigError(loadConfig);
  const { values } = parseArgs({ options: { list: { type: 'boolean', default: false } }, strict: true });
  const app = await NestFactory.createApplicationContext(DeadLetterCommandModule, { logger: ['error', 'warn'] });
  try {
    const queues = app.get(EventQueuesRepository);
    if (values.list) {
      for (const d of await queues.listDeadLetters()) {
        process.stdout.write(`${d.queue}\t${d.id}\tattempts=${d.attemptsMade}\t${d.failedReason}\n`);
      }
      return;
    }
    const moved = await queues.replayDeadLetters();
    process.stdout.write(
      `dlq:replay: re-enqueued ${Object.entries(moved)
        .map(([q, n]) => `${n} from ${q}`)
        .join(', ')}\n`,
    );
  } finally {
    await app.close();
  }
}

main().catch((err) => {
  process.stderr.write(`dlq:replay failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
