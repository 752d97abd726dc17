// What the ingest stages provide to the stages after them.
import { serviceRef } from '../core/stage.ts';
import type { IngestMetrics } from './metrics.ts';
import type { NodeRegistry } from './node-registry.ts';
import type { ResendGuard } from './resend-guard.ts';
import type { TelemetrySink } from './telemetry-sink.ts';
import type { BatchWriter } from './writer.ts';

export const ingestServices = {
  /** The samples table's batching writer (bounded queue, disk spool, exactly-once replay). */
  samplesWriter: serviceRef<BatchWriter>('ingest.samplesWriter'),
  metrics: serviceRef<IngestMetrics>('ingest.metrics'),
  /** Where accepted telemetry goes: the writer, or Kafka when scaled out. */
  telemetrySink: serviceRef<TelemetrySink>('ingest.telemetrySink'),
  /** Which agent batches were already accepted (durable embedded: checkpoint + write-ahead log). */
  resendGuard: serviceRef<ResendGuard>('ingest.resendGuard'),
  /** Registered agents: join, authorize, revoke, the per-request token check. */
  nodes: serviceRef<NodeRegistry>('ingest.nodes'),
};
