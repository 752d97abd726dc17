// What the parts of a running Whistle share. Route plugins and components receive this instead of
// reaching for globals, so tests can build several independent apps in one process.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { WhistleConfig } from '../core/config/schema.ts';
import type { IngestMetrics } from '../ingest/metrics.ts';
import type { NodeRegistry } from '../ingest/node-registry.ts';
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
}
