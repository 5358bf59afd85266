import 'reflect-metadata';
import { ConsoleLogger, LogLevel, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { CoreModule } from '../app/core.module';
import { parseTimestamp } from '../common/validation';
import { loadConfig } from '../config/app-config';
import { exitOnConfigError } from '../config/exit-on-config-error';
import { EventFix, EventQueuesRepository, FIXABLE_FIELDS } from '../events/event-queues.repository';
import { EventsModule } from '../events/events.module';
import { ReconcileService } from '../events/reconcile.service';

@Module({ imports: [CoreModule, EventsModule] })
class DeadLetterCommandModule {}

/** Log lines go to stderr: stdout carries only the command's answer (a list, JSON), for scripts to read. */
class StderrLogger extends ConsoleLogger {
  protected override printMessages(messages: unknown[], context?: string, logLevel?: LogLevel): void {
    super.printMessages(messages, context, logLevel, 'stderr');
  }
}

const USAGE = `npm run dlq:replay -- [options]
  (no option)            replay every dead letter
  --only ID              replay only this dead letter (repeatable)
  --list                 list dead letters: queue, id, user, events, attempts, reason
  --show ID              print one dead letter with its events (JSON)
  --fix ID --set F=V     change field F of its events (${FIXABLE_FIELDS.join(', ')}; occurredAt as RFC 3339),
                         --index N for one event only; then replay it with --only ID
  --discard ID           delete it: its events are dropped for good
  --reconcile            check every user's online state counts its logged events (plus those
                         waiting as "applied online, not logged"); exit 1 listing those that do not`;

/** One `--set field=value` as a typed change to a queued event. */
function parseFix(assignments: string[]): EventFix {
  const fix: Record<string, unknown> = {};
  for (const a of assignments) {
    const eq = a.indexOf('=');
    const [field, raw] = eq < 0 ? [a, ''] : [a.slice(0, eq), a.slice(eq + 1)];
    if (!(FIXABLE_FIELDS as readonly string[]).includes(field)) throw new Error(`--set ${field}: not one of ${FIXABLE_FIELDS.join(', ')}`);
    if (field === 'occurredAt') {
      const ms = parseTimestamp(raw);
      if (ms === null) throw new Error(`--set occurredAt=${raw}: not an RFC 3339 timestamp`);
      fix[field] = ms;
    } else if (field === 'watchMs') {
      fix[field] = raw === 'null' ? null : Number(raw);
    } else if (field === 'requestId') {
      fix[field] = raw === 'null' ? null : raw;
    } else {
      fix[field] = raw;
    }
  }
  return fix as EventFix;
}

/**
 * `npm run dlq:replay`: the dead letters of the events queue (jobs that failed their last
 * attempt, and single events the worker set aside with their reason): list, inspect,
 * fix, replay or discard them. Processing is idempotent, so replaying a job whose effect
 * partly happened is safe; a replayed event still unfit is a dead letter again.
 */
async function main(): Promise<void> {
  exitOnConfigError(loadConfig);
  const { values } = parseArgs({
    options: {
      list: { type: 'boolean', default: false },
      show: { type: 'string' },
      fix: { type: 'string' },
      set: { type: 'string', multiple: true },
      index: { type: 'string' },
      discard: { type: 'string' },
      only: { type: 'string', multiple: true },
      reconcile: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const fix = values.fix !== undefined ? parseFix(values.set ?? []) : null;
  const app = await NestFactory.createApplicationContext(DeadLetterCommandModule, { logger: new StderrLogger({ logLevels: ['error', 'warn'] }) });
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    const queues = app.get(EventQueuesRepository);
    if (values.reconcile) {
      const { users, disagreements, busyJobs } = await app.get(ReconcileService).check();
      if (busyJobs > 0) process.stderr.write(`dlq:replay: ${busyJobs} events jobs still queued or running: drain the queue for an exact answer\n`);
      for (const d of disagreements) out(`${d.userId}\tapplied=${d.applied}\tlogged=${d.logged}\tpending=${d.pending}`);
      out(`dlq:replay: ${users} users checked, ${disagreements.length} disagree`);
      if (disagreements.length > 0) process.exitCode = 1;
    } else if (values.list) {
      for (const d of await queues.listDeadLetters()) {
        out(`${d.queue}\t${d.id}\tuser=${d.userId}\tevents=${d.events}\tattempts=${d.attemptsMade}\t${d.failedReason}`);
      }
    } else if (values.show !== undefined) {
      const d = await queues.deadLetter(values.show);
      if (!d) throw new Error(`no dead letter ${values.show}`);
      out(JSON.stringify(d, null, 2));
    } else if (values.fix !== undefined && fix) {
      const index = values.index === undefined ? undefined : Number(values.index);
      if (!(await queues.fixDeadLetter(values.fix, fix, index))) throw new Error(`no dead letter ${values.fix}`);
      out(`dlq:replay: fixed ${values.fix} (${Object.keys(fix).join(', ')}); replay it with --only ${values.fix}`);
    } else if (values.discard !== undefined) {
      if (!(await queues.discardDeadLetter(values.discard))) throw new Error(`no dead letter ${values.discard}`);
      out(`dlq:replay: discarded ${values.discard}`);
    } else {
      const moved = await queues.replayDeadLetters(values.only);
      out(`dlq:replay: re-enqueued ${Object.entries(moved).map(([q, n]) => `${n} from ${q}`).join(', ')}`);
    }
  } finally {
    await app.close();
  }
}

main().catch((err) => {
  process.stderr.write(`dlq:replay failed: ${(err as Error).message}\n`);
  process.exit(1);
});
