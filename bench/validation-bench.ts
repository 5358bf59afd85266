/**
 * Request validation in isolation: the api's pipe (FastPathValidationPipe) against Nest's
 * ValidationPipe with the same options (class-validator alone), in turn, on what the hot
 * routes receive: event batches of 10 and 500 (POST /v1/events) and feed queries (a page
 * size, a cursor). Every DTO of the api is loaded first (the api module), as class-validator's
 * metadata lookup scans them. Prints the median µs per event and per query over the rounds.
 *
 *   npm run build && node dist/bench/validation-bench.js [--rounds 5]
 */
import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { parseArgs } from 'node:util';
import '../src/app/api.module';
import { FastPathValidationPipe, VALIDATION_OPTIONS } from '../src/common/validation';
import { IngestEventsDto } from '../src/events/dto/ingest-events.dto';
import { FeedQueryDto } from '../src/feed/feed.dto';

const { values: args } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const ROUNDS = Number(args.rounds);

const pipes = { 'class-validator': new ValidationPipe(VALIDATION_OPTIONS), 'fast path': new FastPathValidationPipe(VALIDATION_OPTIONS) };

const batch = (n: number) => ({
  events: Array.from({ length: n }, (_, i) => ({
    eventId: `e-${Math.random().toString(36).slice(2)}`,
    type: i % 3 === 0 ? 'like' : 'view',
    videoId: `v_${String(i).padStart(7, '0')}`,
    watchMs: 1200 + i,
    requestId: 'a35d0302-b0f2-4510-8ad2-a654817c5226',
    occurredAt: new Date().toISOString(),
  })),
});
const queries = [{}, { limit: '20' }, { limit: '20', cursor: 'WyJfNGNRbm01eGpWLWtKMUFqIiwwLDE3OTYyODg1MzI1Mzdd.3RUfnzTmbmfkbvYZZOn9Rg' }];

const cases: { name: string; unit: string; perCall: number; inputs: () => object[]; metatype: new () => object; type: 'body' | 'query' }[] = [
  { name: 'events, batches of 10', unit: 'event', perCall: 10, inputs: () => Array.from({ length: 2000 }, () => batch(10)), metatype: IngestEventsDto, type: 'body' },
  { name: 'events, batches of 500', unit: 'event', perCall: 500, inputs: () => Array.from({ length: 40 }, () => batch(500)), metatype: IngestEventsDto, type: 'body' },
  { name: 'feed queries', unit: 'query', perCall: 1, inputs: () => Array.from({ length: 20_000 }, (_, i) => ({ ...queries[i % queries.length] })), metatype: FeedQueryDto, type: 'query' },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  for (const c of cases) {
    const times = new Map<string, number[]>(Object.keys(pipes).map((name) => [name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, pipe] of Object.entries(pipes)) {
        const inputs = c.inputs();
        const started = process.hrtime.bigint();
        for (const input of inputs) await pipe.transform(input, { type: c.type, metatype: c.metatype });
        times.get(name)!.push(Number(process.hrtime.bigint() - started) / 1e3 / (inputs.length * c.perCall));
      }
    }
    const line = [...times].map(([name, us]) => `${name} ${median(us).toFixed(2)} µs (${us.map((u) => u.toFixed(1)).join(' ')})`).join(', ');
    console.log(`${c.name}, per ${c.unit}: ${line}`);
  }
}

void main();
