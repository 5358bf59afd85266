import { IsString, Length } from 'class-validator';
import { asciiId, FastValidation } from '../common/validation';
import { FAST_EVENTS, ID_MAX, IngestEventsDto } from '../events/dto/ingest-events.dto';

/**
 * One broker message: POST /v1/events' body plus the user it belongs to (over HTTP
 * the user is the token's subject; here the producer, a trusted backend, names it).
 * Producers key / partition by userId so one user's events stay in order.
 */
@FastValidation({ type: 'object', required: ['userId', 'events'], additionalProperties: false, properties: { userId: asciiId(ID_MAX), events: FAST_EVENTS } })
export class StreamMessageDto extends IngestEventsDto {
  @IsString()
  @Length(1, ID_MAX)
  userId: string;
}
