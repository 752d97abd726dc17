// What the parts of a running Whistle share. Route plugins and components receive this instead of
// reaching for globals, so tests can build several independent apps in one process.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { WhistleConfig } from '../core/config/schema.ts';
import type { IngestMetrics } from '../ingest/metrics.ts';
import type { NodeRegistry } from '../ingest/node-registry.ts';
import type { TelemetryBatch } from '../ingest/telemetry-batch.ts';
import type { BatchWriter } from '../ingest/writer.ts';
import type { Store } from '../store/store.ts';
import type { AuditLog } from './audit.ts';

export interface AppContext {
  config: WhistleConfig;
  store: Store;
  log: Logger;
  registry: Registry;
  metrics: IngestMetrics;
  nodes: NodeRegistry;
  samplesWriter: BatchWriter;
  audit: AuditLog;
  /** Set when accepted telemetry goes elsewhere than samplesWriter (scale-out: ingest/kafka). */
  telemetrySink?: TelemetrySink;
}

/** Takes an accepted, encoded batch; resolves once it is durably accepted (the HTTP answer waits). */
export interface TelemetrySink {
  publish(batch: TelemetryBatch, body: string, batchId: number): Promise<void>;
}
