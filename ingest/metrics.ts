// Ingest and writer metrics, registered on the app's registry.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type RejectReason =
  | 'invalid_json'
  | 'invalid_schema'
  | 'non_finite'
  | 'ts_out_of_range'
  | 'too_large'
  | 'too_many_samples'
  | 'unauthorized'
  | 'forbidden'
  | 'pending'
  | 'overloaded'
  | 'rate_limited'
  | 'unavailable';

export interface IngestMetrics {
  accepted: Counter;
  rejected: Counter<'reason'>;
  batchSize: Histogram;
  queueDepth: Gauge;
  spooledBatches: Gauge;
  flushSeconds: Histogram;
  flushedSamples: Counter;
  storeErrors: Counter<'op'>;
}

export function createIngestMetrics(registry: Registry): IngestMetrics {
  return {
    accepted: new Counter({ name: 'whistle_ingest_samples_accepted_total', help: 'Samples accepted into the write queue', registers: [registry] }),
    rejected: new Counter({
      name: 'whistle_ingest_samples_rejected_total',
      help: 'Samples (or requests, when the body could not be read) rejected, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    batchSize: new Histogram({
      name: 'whistle_ingest_batch_samples',
      help: 'Samples per accepted telemetry request',
      buckets: [1, 10, 50, 100, 500, 1000, 5000, 10000],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'whistle_writer_queue_samples', help: 'Samples waiting in memory for the store', registers: [registry] }),
    spooledBatches: new Gauge({ name: 'whistle_writer_spooled_batches', help: 'Batches on disk waiting for the store to return', registers: [registry] }),
    flushSeconds: new Histogram({
      name: 'whistle_writer_flush_seconds',
      help: 'Latency of one batch insert into the store',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    flushedSamples: new Counter({ name: 'whistle_writer_flushed_samples_total', help: 'Samples written to the store', registers: [registry] }),
    storeErrors: new Counter({ name: 'whistle_store_errors_total', help: 'Failed store operations', labelNames: ['op'], registers: [registry] }),
  };
}
