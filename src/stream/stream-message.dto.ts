import { IsString, Length } from 'class-validator';
import { IngestEventsDto } from '../events/dto/ingest-events.dto';

/**
 * One broker message: POST /v1/events' body plus the user it belongs to (over HTTP
 * the user is the token's subject; here the producer, a trusted backend, names it).
 * Producers key / partition by userId so one user's events stay in order.
 */
export class StreamMessageDto extends IngestEventsDto {
  @IsString()
  @Length(1, 128)
  userId: string;
}
