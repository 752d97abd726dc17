// What the ingest routes share: exactly the services the ingest stage declared, nothing more.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AuditLog } from '../core/audit.ts';
import type { ServerConfig } from '../core/config/schema.ts';
import type { OperatorAuth } from '../core/http/operator-auth.ts';
import type { Store } from '../store/store.ts';
import type { IngestMetrics } from './metrics.ts';
import type { NodeRegistry } from './node-registry.ts';
import type { ResendGuard } from './resend-guard.ts';
import type { TelemetrySink } from './telemetry-sink.ts';
import type { WriterConfig } from './writer-config.ts';
import type { BatchWriter } from './writer.ts';

export interface IngestContext {
  server: ServerConfig;
  writer: WriterConfig;
  store: Store;
  log: Logger;
  registry: Registry;
  metrics: IngestMetrics;
  nodes: NodeRegistry;
  samplesWriter: BatchWriter;
  sink: TelemetrySink;
  resendGuard: ResendGuard;
  audit: AuditLog;
  operatorAuth: OperatorAuth;
}
