// Metrics of the Kafka transport, on the app's registry (one set per Whistle).
import { Counter, Gauge, type Registry } from 'prom-client';

export interface KafkaMetrics {
  published: Counter;
  publishFailures: Counter;
  consumed: Counter;
  skippedDuplicates: Counter;
  invalid: Counter;
  ownedPartitions: Gauge;
}

export function createKafkaMetrics(registry: Registry): KafkaMetrics {
  return {
    published: new Counter({ name: 'whistle_kafka_published_messages_total', help: 'Telemetry batches acknowledged by the broker', registers: [registry] }),
    publishFailures: new Counter({ name: 'whistle_kafka_publish_failures_total', help: 'Telemetry batches refused with 503 because the broker did not acknowledge them', registers: [registry] }),
    consumed: new Counter({ name: 'whistle_kafka_consumed_messages_total', help: 'Telemetry batches read from the topic and written to the store (offset committed)', registers: [registry] }),
    skippedDuplicates: new Counter({
      name: 'whistle_kafka_skipped_duplicate_messages_total',
      help: 'Messages read again after a rebalance whose rows were already in the store',
      registers: [registry],
    }),
    invalid: new Counter({ name: 'whistle_kafka_invalid_messages_total', help: 'Messages that could not be decoded (logged and skipped)', registers: [registry] }),
    ownedPartitions: new Gauge({ name: 'whistle_kafka_owned_partitions', help: 'Partitions of the telemetry topic this worker holds', registers: [registry] }),
  };
}
