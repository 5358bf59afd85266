import { Transport } from '@nestjs/microservices';
import { loadConfig } from '../config/app-config';
import { InteractionsServerRMQ, kafkaOptions, rmqOptions, streamTransport } from './stream-transport';

describe('stream transport options', () => {
  it('picks the transport from STREAM_TRANSPORT', () => {
    expect(streamTransport(loadConfig({ STREAM_TRANSPORT: 'rmq' }))).toEqual({ strategy: expect.any(InteractionsServerRMQ) });
    expect(streamTransport(loadConfig({ STREAM_TRANSPORT: 'kafka' }))).toMatchObject({ transport: Transport.KAFKA });
    expect(() => loadConfig({ STREAM_TRANSPORT: 'nats' })).toThrow(/STREAM_TRANSPORT/);
  });

  it('consumes RabbitMQ with manual acks from a quorum queue that dead-letters into <queue>.dead', () => {
    const options = rmqOptions(loadConfig({ STREAM_RMQ_QUEUE: 'q1', STREAM_CONCURRENCY: '7' }));
    expect(options).toMatchObject({
      queue: 'q1',
      noAck: false,
      prefetchCount: 7,
      queueOptions: {
        durable: true,
        arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'q1.dead' },
      },
    });
  });

  it('joins the Kafka consumer group named in the config (no Nest postfix) and commits only handled offsets', () => {
    const options = kafkaOptions(loadConfig({ STREAM_KAFKA_BROKERS: 'k1:9092,k2:9092', STREAM_KAFKA_GROUP: 'g1' }));
    expect(options).toMatchObject({
      postfixId: '',
      client: { brokers: ['k1:9092', 'k2:9092'] },
      consumer: { groupId: 'g1' },
      run: { autoCommit: true },
    });
  });
});
