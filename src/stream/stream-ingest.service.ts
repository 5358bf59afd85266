import { HttpException, Injectable } from '@nestjs/common';
import { findUnstorableText } from '../common/unstorable-text';
import { FastPathValidationPipe, VALIDATION_OPTIONS } from '../common/validation';
import { EventIngestService } from '../events/event-ingest.service';
import { StreamMessageDto } from './stream-message.dto';

export type StreamOutcome =
  | { status: 'ingested'; accepted: number; duplicates: number }
  | { status: 'rejected'; reason: string };

/**
 * Turns one broker message into an ingest call, exactly as POST /v1/events does:
 * the same DTO validation and the same IngestService (dedupe by eventId, bulk
 * enqueue). Client errors become a `rejected` outcome (dead letter); anything
 * else (Redis unavailable, ...) is thrown so the message is redelivered.
 */
@Injectable()
export class StreamIngestService {
  private readonly validation = new FastPathValidationPipe(VALIDATION_OPTIONS);

  constructor(private readonly ingest: EventIngestService) {}

  async consume(payload: unknown): Promise<StreamOutcome> {
    const unstorable = findUnstorableText(payload);
    if (unstorable) return { status: 'rejected', reason: unstorable };
    try {
      const message = (await this.validation.transform(payload, {
        type: 'body',
        metatype: StreamMessageDto,
      })) as StreamMessageDto;
      const result = await this.ingest.ingest(message.userId, message.events);
      return { status: 'ingested', accepted: result.accepted, duplicates: result.duplicates };
    } catch (err) {
      if (err instanceof HttpException && err.getStatus() < 500) {
        return { status: 'rejected', reason: describe(err) };
      }
      throw err;
    }
  }
}

function describe(err: HttpException): string {
  const body = err.getResponse();
  if (typeof body === 'string') return body;
  const message = (body as { message?: unknown }).message;
  return Array.isArray(message) ? message.join('; ') : String(message ?? err.message);
}
