import { Controller, Logger } from '@nestjs/common';
import { Ctx, EventPattern, KafkaContext, Payload, RmqContext, Transport } from '@nestjs/microservices';
import { AppConfig } from '../config/app-config';
import { StreamIngestService } from './stream-ingest.service';
import { StreamMetrics } from './stream.metrics';
import { deadLetterName, INTERACTIONS_TOPIC } from './stream-transport';

interface AmqpChannel {
  ack(message: unknown): void;
  nack(message: unknown, allUpTo?: boolean, requeue?: boolean): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Broker messages in, ingest out, with at-least-once delivery: a message is
 * acknowledged (RabbitMQ ack, Kafka offset commit) only after its events were
 * enqueued. Invalid messages are dead-lettered and do not block the stream;
 * a failed ingest (Redis down, ...) hands the message back for redelivery.
 */
@Controller()
export class StreamController {
  private readonly logger = new Logger(StreamController.name);

  constructor(
    private readonly ingest: StreamIngestService,
    private readonly config: AppConfig,
    private readonly metrics: StreamMetrics,
  ) {}

  // `<string>` picks EventPattern's untyped overload; the typed one would not allow a typed context parameter.
  @EventPattern<string>(INTERACTIONS_TOPIC, Transport.RMQ)
  async fromRabbit(@Payload() payload: unknown, @Ctx() context: RmqContext): Promise<void> {
    const channel = context.getChannelRef() as AmqpChannel;
    const message = context.getMessage();
    try {
      const outcome = await this.ingest.consume(payload);
      if (outcome.status === 'rejected') {
        this.logger.warn(`dead-lettering message ${describeRmq(message)}: ${outcome.reason}`);
        channel.nack(message, false, false);
        this.metrics.messages.inc({ outcome: 'dead_lettered' });
      } else {
        channel.ack(message);
        this.metrics.messages.inc({ outcome: 'ingested' });
      }
    } catch (err) {
      this.logger.warn(`ingest failed, message ${describeRmq(message)} goes back to the queue: ${(err as Error).message}`);
      this.metrics.messages.inc({ outcome: 'redelivered' });
      await sleep(this.config.STREAM_RETRY_DELAY_MS);
      try {
        channel.nack(message, false, true);
      } catch (nackErr) {
        // The channel closed meanwhile; the broker redelivers unacked messages anyway.
        this.logger.warn(`nack failed: ${(nackErr as Error).message}`);
      }
    }
  }

  /** Resolving commits the offset; throwing makes kafkajs retry from this message. */
  @EventPattern<string>(INTERACTIONS_TOPIC, Transport.KAFKA)
  async fromKafka(@Payload() payload: unknown, @Ctx() context: KafkaContext): Promise<void> {
    let outcome;
    try {
      outcome = await this.ingest.consume(payload);
    } catch (err) {
      this.metrics.messages.inc({ outcome: 'redelivered' });
      throw err;
    }
    if (outcome.status !== 'rejected') {
      this.metrics.messages.inc({ outcome: 'ingested' });
      return;
    }
    const message = context.getMessage();
    const topic = deadLetterName(context.getTopic());
    this.logger.warn(
      `dead-lettering ${context.getTopic()}[${context.getPartition()}]@${message.offset} to ${topic}: ${outcome.reason}`,
    );
    await context.getProducer().send({
      topic,
      messages: [
        {
          key: message.key === null || message.key === undefined ? null : String(message.key),
          value: rawValue(message.value),
          headers: { 'x-reelrank-error': outcome.reason.slice(0, 1000) },
        },
      ],
    });
    this.metrics.messages.inc({ outcome: 'dead_lettered' });
  }
}

function describeRmq(message: { fields?: { deliveryTag?: number; redelivered?: boolean } }): string {
  return `#${message.fields?.deliveryTag}${message.fields?.redelivered ? ' (redelivered)' : ''}`;
}

/** The message value as it was produced (Nest's Kafka parser has already turned JSON into objects). */
function rawValue(value: unknown): Buffer | string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value) || typeof value === 'string') return value;
  return JSON.stringify(value);
}
