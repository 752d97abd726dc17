// The services the composition root itself provides to every stage that declares them. Everything
// else a stage needs comes from another stage, through that stage's own references.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Store } from '../store/store.ts';
import type { AuditLog } from './audit.ts';
import type { ClusterCatalog } from './clusters/catalog.ts';
import type { ServerConfig } from './config/schema.ts';
import type { OperatorAuth } from './http/operator-auth.ts';
import { serviceRef } from './stage.ts';

export const coreServices = {
  /** The store, schema migrated, shared by every stage (closed by the root). */
  store: serviceRef<Store>('core.store'),
  logger: serviceRef<Logger>('core.logger'),
  /** Prometheus registry served at GET /metrics. */
  metrics: serviceRef<Registry>('core.metrics'),
  /**
   * The managed clusters (table `clusters`, seeded from `clusters:`), read at call time; `onChange`
   * announces each one created or deleted, so watchers follow without a restart.
   */
  clusters: serviceRef<ClusterCatalog>('core.clusters'),
  /** The HTTP server's settings (`server:`): limits, public URL. */
  server: serviceRef<ServerConfig>('core.server'),
  /** Operator-token check for operator routes, with the actor's name for the audit trail. */
  operatorAuth: serviceRef<OperatorAuth>('core.operatorAuth'),
  /** Who did what through the operator API (table audit_log). */
  audit: serviceRef<AuditLog>('core.audit'),
  /** Wall-clock time in epoch ms; tests may shift it. */
  clock: serviceRef<() => number>('core.clock'),
  /** Where Whistle keeps its state (`dataDir`). */
  dataDir: serviceRef<string>('core.dataDir'),
};
