import { KafkaContext, RmqContext } from '@nestjs/microservices';
import { Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { StreamController } from './stream.controller';
import { StreamIngestService, StreamOutcome } from './stream-ingest.service';
import { StreamMetrics } from './stream.metrics';
import { InteractionsDeserializer, INTERACTIONS_TOPIC } from './stream-transport';

function controllerWith(consume: (payload: unknown) => Promise<StreamOutcome>) {
  const config = Object.assign(new AppConfig(), { STREAM_RETRY_DELAY_MS: 1 });
  const metrics = new StreamMetrics(new Registry());
  const ingest = { consume } as unknown as StreamIngestService;
  return { controller: new StreamController(ingest, config, metrics), metrics };
}

function rabbit() {
  const channel = { ack: jest.fn(), nack: jest.fn() };
  const message = { fields: { deliveryTag: 7, redelivered: false }, content: Buffer.from('{}') };
  return { channel, message, context: new RmqContext([message, channel, INTERACTIONS_TOPIC]) };
}

function kafka(value: unknown) {
  const producer = { send: jest.fn().mockResolvedValue([]) };
  const message = { key: 'user-1', value, offset: '42', headers: {} };
  const context = new KafkaContext([message as never, 3, INTERACTIONS_TOPIC, {} as never, async () => {}, producer as never]);
  return { producer, context };
}

const ingested: StreamOutcome = { status: 'ingested', accepted: 2, duplicates: 0 };
const rejected: StreamOutcome = { status: 'rejected', reason: 'events.0.type must be one of ...' };

describe(StreamController.name, () => {
  describe('RabbitMQ', () => {
    it('acks a message only once its events were ingested', async () => {
      const { channel, message, context } = rabbit();
      let release!: () => void;
      const { controller } = controllerWith(() => new Promise((resolve) => (release = () => resolve(ingested))));
      const handling = controller.fromRabbit({}, context);
      await new Promise((r) => setImmediate(r));
      expect(channel.ack).not.toHaveBeenCalled();
      release();
      await handling;
      expect(channel.ack).toHaveBeenCalledWith(message);
      expect(channel.nack).not.toHaveBeenCalled();
    });

    it('rejects an invalid message without requeueing it (dead letter)', async () => {
      const { channel, message, context } = rabbit();
      const { controller, metrics } = controllerWith(async () => rejected);
      await controller.fromRabbit('garbage', context);
      expect(channel.nack).toHaveBeenCalledWith(message, false, false);
      expect(channel.ack).not.toHaveBeenCalled();
      expect((await metrics.messages.get()).values).toEqual([expect.objectContaining({ labels: { outcome: 'dead_lettered' }, value: 1 })]);
    });

    it('requeues a message whose ingest failed', async () => {
      const { channel, message, context } = rabbit();
      const { controller } = controllerWith(async () => {
        throw new Error('Redis is down');
      });
      await controller.fromRabbit({}, context);
      expect(channel.nack).toHaveBeenCalledWith(message, false, true);
      expect(channel.ack).not.toHaveBeenCalled();
    });
  });

  describe('Kafka', () => {
    it('resolves (offset committed) once ingested', async () => {
      const { producer, context } = kafka({ userId: 'user-1', events: [] });
      const { controller } = controllerWith(async () => ingested);
      await expect(controller.fromKafka({}, context)).resolves.toBeUndefined();
      expect(producer.send).not.toHaveBeenCalled();
    });

    it('sends an invalid message to the dead-letter topic with the reason, then resolves', async () => {
      const { producer, context } = kafka({ userId: 'user-1', events: [{ type: 'teleport' }] });
      const { controller } = controllerWith(async () => rejected);
      await controller.fromKafka({}, context);
      expect(producer.send).toHaveBeenCalledWith({
        topic: `${INTERACTIONS_TOPIC}.dead`,
        messages: [
          {
            key: 'user-1',
            value: JSON.stringify({ userId: 'user-1', events: [{ type: 'teleport' }] }),
            headers: { 'x-reelrank-error': rejected.status === 'rejected' ? rejected.reason : '' },
          },
        ],
      });
    });

    it('throws when ingest fails, so kafkajs retries from the same offset', async () => {
      const { producer, context } = kafka('{}');
      const { controller } = controllerWith(async () => {
        throw new Error('Redis is down');
      });
      await expect(controller.fromKafka({}, context)).rejects.toThrow('Redis is down');
      expect(producer.send).not.toHaveBeenCalled();
    });
  });
});

describe(InteractionsDeserializer.name, () => {
  const deserializer = new InteractionsDeserializer();

  it('maps a plain producer message, and unwraps a Nest client envelope, to the interactions pattern', () => {
    const body = { userId: 'u', events: [] };
    expect(deserializer.deserialize(body)).toEqual({ pattern: INTERACTIONS_TOPIC, data: body });
    expect(deserializer.deserialize({ pattern: INTERACTIONS_TOPIC, data: body })).toEqual({ pattern: INTERACTIONS_TOPIC, data: body });
  });

  it('passes anything else on as data, for validation to reject', () => {
    expect(deserializer.deserialize('not json')).toEqual({ pattern: INTERACTIONS_TOPIC, data: 'not json' });
    expect(deserializer.deserialize({ pattern: 'other', data: 1 })).toEqual({
      pattern: INTERACTIONS_TOPIC,
      data: { pattern: 'other', data: 1 },
    });
  });
});
