// Scale-out wiring: with `kafka.enabled`, accepted telemetry is published to the topic (the
// telemetry route's sink) and this worker's consumer feeds the samples writer with its partitions'
// share. Disabled (the default), this extension adds nothing and ingest writes directly.
import type { Extension } from '../../app/whistle.ts';
import { createKafka } from './client.ts';
import { TelemetryConsumer, type ConsumerFaults } from './consumer.ts';
import { createKafkaMetrics } from './metrics.ts';
import { KafkaTelemetryProducer } from './producer.ts';
import { ensureTopic } from './topic.ts';

export interface KafkaExtensionOptions {
  /** Receives the consumer once built (detectors and incidents ask it which clusters are theirs). */
  onConsumer?: (consumer: TelemetryConsumer) => void;
  faults?: ConsumerFaults;
}

export function kafkaExtension(opts: KafkaExtensionOptions = {}): Extension {
  return {
    name: 'kafka',
    async create(ctx) {
      const config = ctx.config.kafka;
      if (!config.enabled) return {};
      const log = ctx.log.child({ component: 'kafka' });
      const kafka = createKafka(config, log);
      const metrics = createKafkaMetrics(ctx.registry);
      // One encoded agent batch is at most about twice its JSON; leave room for headers.
      const maxMessageBytes = Math.max(16 * 1024 * 1024, 4 * ctx.config.server.bodyLimitBytes);
      let topic: Promise<number> | null = null;
      const topicReady = () =>
        (topic ??= (async () => {
          const admin = kafka.admin();
          await admin.connect();
          try {
            return await ensureTopic(admin, config, maxMessageBytes, log);
          } finally {
            await admin.disconnect();
          }
        })().catch((err: unknown) => {
          topic = null;
          throw err;
        }));
      const consumer = new TelemetryConsumer({
        kafka,
        config,
        topicReady,
        writer: ctx.samplesWriter,
        store: ctx.store,
        knownClusters: () => ctx.config.clusters.map((c) => c.name),
        metrics,
        log,
        faults: opts.faults,
      });
      const producer = new KafkaTelemetryProducer(kafka, config, topicReady, maxMessageBytes, metrics, log);
      ctx.telemetrySink = producer;
      opts.onConsumer?.(consumer);
      // Start order is downstream first: the consumer (feeds the writer), then the producer (fed
      // by HTTP); stop is the reverse, so the producer is gone before the consumer drains.
      return { components: [consumer, producer] };
    },
  };
}
