import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CoreModule } from '../app/core.module';
import { loadConfig } from '../config/app-config';
import { exitOnConfigError } from '../config/exit-on-config-error';
import { EventsModule } from '../events/events.module';
import { ReplayService } from '../events/replay.service';

@Module({ imports: [CoreModule, EventsModule] })
class ReplayCommandModule {}

/**
 * `npm run replay`: rebuilds the event pipeline's Redis state (user features, seen sets,
 * video stats, trending) from the Postgres interactions log. Stop the workers first.
 */
async function main(): Promise<void> {
  exitOnConfigError(loadConfig);
  const app = await NestFactory.createApplicationContext(ReplayCommandModule, { logger: ['error', 'warn'] });
  try {
    const report = await app.get(ReplayService).rebuild();
    process.stdout.write(
      `replay: ${report.events} events, ${report.users} users, ${report.videos} videos in ${(report.ms / 1000).toFixed(1)}s` +
        ` (${Math.round(report.events / Math.max(0.001, report.ms / 1000))} events/s; ${report.keysCleared} old keys cleared;` +
        ` phases ms: ${JSON.stringify(report.phasesMs)})\n`,
    );
  } finally {
    await app.close();
  }
}

main().catch((err) => {
  process.stderr.write(`replay failed: ${(err as Error).stack}\n`);
  process.exit(1);
});
