import { ConsumerDeserializer, IncomingEvent, KafkaOptions, RmqOptions, ServerRMQ, Transport } from '@nestjs/microservices';
import { CustomStrategy } from '@nestjs/microservices';
import { AppConfig } from '../config/app-config';

/**
 * The event pattern interaction messages arrive under. On Kafka it is the topic
 * (Nest subscribes to the topics its handlers name); on RabbitMQ every message of
 * the configured queue is mapped to it.
 */
export const INTERACTIONS_TOPIC = 'reelrank.interactions';

/** Where rejected messages go: `<queue>.dead` on RabbitMQ, `<topic>.dead` on Kafka. */
export const deadLetterName = (source: string) => `${source}.dead`;

/**
 * Producers publish plain JSON `{userId, events}`, not Nest's `{pattern, data}`
 * envelope; this maps either to the interactions pattern. Anything else (a string
 * that was not JSON, an array, ...) is passed on as data and rejected by validation.
 */
export class InteractionsDeserializer implements ConsumerDeserializer {
  deserialize(value: unknown): IncomingEvent {
    if (value && typeof value === 'object' && (value as IncomingEvent).pattern === INTERACTIONS_TOPIC) {
      return { pattern: INTERACTIONS_TOPIC, data: (value as IncomingEvent).data };
    }
    return { pattern: INTERACTIONS_TOPIC, data: value };
  }
}

/** Nest's RabbitMQ server, plus the dead-letter queue that the interactions queue rejects into. */
export class InteractionsServerRMQ extends ServerRMQ {
  override async setupChannel(channel: { assertQueue(name: string, options: object): Promise<unknown> }, callback: () => void) {
    await channel.assertQueue(deadLetterName(this.queue), { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    return super.setupChannel(channel, callback);
  }
}

/**
 * RabbitMQ: a durable quorum queue, manual acks (noAck false), `STREAM_CONCURRENCY`
 * unacked messages in flight; a rejected message, or one redelivered more than
 * 20 times, is dead-lettered to `<queue>.dead`.
 */
export function rmqOptions(config: AppConfig): Required<RmqOptions>['options'] {
  return {
    urls: [config.STREAM_RMQ_URL],
    queue: config.STREAM_RMQ_QUEUE,
    noAck: false,
    prefetchCount: config.STREAM_CONCURRENCY,
    queueOptions: {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-delivery-limit': 20,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': deadLetterName(config.STREAM_RMQ_QUEUE),
      },
    },
    deserializer: new InteractionsDeserializer(),
  };
}

/**
 * Kafka: consumer group `STREAM_KAFKA_GROUP` on topic `reelrank.interactions`
 * (partitioned by the producer's message key = user id, so one user's events stay
 * in order on one partition), offsets auto-committed only for messages whose
 * handler resolved, i.e. whose events were enqueued; a handler that throws is
 * retried by kafkajs from the same offset. Partitions and event queue shards
 * (EVENT_QUEUE_SHARDS) are independent: each keeps a user's order on its own, so any
 * partition count works with any shard count (README, Scaling out).
 */
export function kafkaOptions(config: AppConfig): Required<KafkaOptions>['options'] {
  return {
    postfixId: '',
    client: {
      clientId: 'reelrank-stream',
      brokers: config.STREAM_KAFKA_BROKERS.split(','),
      retry: { initialRetryTime: config.STREAM_RETRY_DELAY_MS, retries: 10 },
    },
    consumer: { groupId: config.STREAM_KAFKA_GROUP, allowAutoTopicCreation: false },
    subscribe: { fromBeginning: true },
    run: { autoCommit: true, partitionsConsumedConcurrently: config.STREAM_CONCURRENCY },
    producer: { allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 },
  };
}

/** The transport the `stream` process listens on, chosen by STREAM_TRANSPORT. */
export function streamTransport(config: AppConfig): CustomStrategy | (KafkaOptions & { transport: Transport.KAFKA }) {
  if (config.STREAM_TRANSPORT === 'kafka') return { transport: Transport.KAFKA, options: kafkaOptions(config) };
  return { strategy: new InteractionsServerRMQ(rmqOptions(config)) };
}
