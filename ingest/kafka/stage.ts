// The telemetry transport as a stage. Embedded (`kafka.enabled: false`, the default) the telemetry
// route writes straight into the samples writer. Scaled out, accepted telemetry is published to
// the topic (the route's sink) and this worker's consumer feeds the writer with its partitions'
// share.
import { coreServices } from '../../core/services.ts';
import { defineStage } from '../../core/stage.ts';
import { ingestServices } from '../services.ts';
import { writerSink } from '../telemetry-sink.ts';
import { createKafka } from './client.ts';
import { kafkaSchema } from './config.ts';
import { TelemetryConsumer } from './consumer.ts';
import { createKafkaMetrics } from './metrics.ts';
import { KafkaTelemetryProducer } from './producer.ts';
import { kafkaServices } from './services.ts';
import { ensureTopic } from './topic.ts';

export const kafkaStage = defineStage({
  id: 'kafka',
  config: { section: 'kafka', schema: kafkaSchema },
  needs: {
    store: coreServices.store,
    logger: coreServices.logger,
    registry: coreServices.metrics,
    clusters: coreServices.clusters,
    server: coreServices.server,
    samplesWriter: ingestServices.samplesWriter,
  },
  provides: { sink: ingestServices.telemetrySink, consumer: kafkaServices.consumer },
  async create({ config, deps }) {
    if (!config.enabled) return { services: { sink: writerSink(deps.samplesWriter), consumer: null } };
    const log = deps.logger.child({ component: 'kafka' });
    const kafka = createKafka(config, log);
    const metrics = createKafkaMetrics(deps.registry);
    // One encoded agent batch is at most about twice its JSON; leave room for headers.
    const maxMessageBytes = Math.max(16 * 1024 * 1024, 4 * deps.server.bodyLimitBytes);
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
      writer: deps.samplesWriter,
      store: deps.store,
      knownClusters: () => deps.clusters.names(),
      metrics,
      log,
    });
    const producer = new KafkaTelemetryProducer(kafka, config, topicReady, maxMessageBytes, metrics, log);
    // Start order is downstream first: the consumer (feeds the writer), then the producer (fed
    // by HTTP); stop is the reverse, so the producer is gone before the consumer drains.
    return { services: { sink: producer, consumer }, components: [consumer, producer] };
  },
});
