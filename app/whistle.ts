// Assembles a running Whistle from its configuration: the store (schema migrated), the core
// services, then every stage in the order their declared dependencies give, and the HTTP server
// serving the stages' routes. Start order is downstream first (the store, then each stage after
// the stages it needs, then the server that feeds them); stop order is the reverse.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { join } from 'node:path';
import { AuditLog } from '../core/audit.ts';
import { ClusterCatalog } from '../core/clusters/catalog.ts';
import type { Component } from '../core/component.ts';
import { operatorAuth } from '../core/http/operator-auth.ts';
import { createLogger } from '../core/log.ts';
import { createRegistry, type Registry } from '../core/metrics.ts';
import { coreServices } from '../core/services.ts';
import type { AnyStage, ServiceRef } from '../core/stage.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { buildStages, stagesForStore } from './compose.ts';
import type { WhistleConfig } from './config.ts';
import { buildServer } from './http-server.ts';
import { builtinStages } from './stages.ts';

export interface WhistleOptions {
  logger?: Logger;
  registry?: Registry;
  /** Use an already open store (tests share one; the app then does not close it). */
  store?: Store;
  /** The stages to run; default: every builtin stage, as `whistle start` runs them. */
  stages?: readonly AnyStage[];
  /** Wall clock for the stages (tests shift it); default Date.now. */
  clock?: () => number;
}

export class Whistle {
  private stopped = false;
  url = '';

  private constructor(
    readonly config: WhistleConfig,
    readonly server: FastifyInstance,
    private readonly services: Map<string, unknown>,
    private readonly components: Component[],
    /** Stage ids in start order. */
    readonly stageOrder: string[],
    private readonly ownsStore: boolean,
    private readonly log: Logger,
  ) {}

  static async create(config: WhistleConfig, opts: WhistleOptions = {}): Promise<Whistle> {
    const log = opts.logger ?? createLogger();
    const registry = opts.registry ?? createRegistry();
    const store = opts.store ?? (await openStore(config.store));
    try {
      const clusters = await ClusterCatalog.open({ store, keyFile: join(config.dataDir, 'secrets', 'cluster-secrets.key'), configured: config.clusters, log: log.child({ component: 'clusters' }) });
      const core = new Map<string, unknown>([
        [coreServices.store.id, store],
        [coreServices.logger.id, log],
        [coreServices.metrics.id, registry],
        [coreServices.clusters.id, clusters],
        [coreServices.server.id, config.server],
        [coreServices.operatorAuth.id, operatorAuth(config.server)],
        [coreServices.audit.id, new AuditLog(store, log)],
        [coreServices.clock.id, opts.clock ?? Date.now],
        [coreServices.dataDir.id, config.dataDir],
      ]);
      const { run, left } = stagesForStore(opts.stages ?? builtinStages, store.dialect, new Set(core.keys()));
      if (left.length > 0) log.warn({ stages: left.map((st) => st.id) }, 'the store is a legacy ClickHouse server without the full schema: these stages do not run (ingest only)');
      const built = await buildStages(run, core, config as unknown as Record<string, unknown>);
      const server = await buildServer(config.server, log, built.routes);
      return new Whistle(config, server, built.services, built.components, built.order, !opts.store, log);
    } catch (err) {
      if (!opts.store) await store.close();
      throw err;
    }
  }

  /** A service any stage (or the core) provides, by its typed reference. */
  service<T>(ref: ServiceRef<T>): T {
    if (!this.services.has(ref.id)) throw new Error(`no stage provides "${ref.id}"`);
    return this.services.get(ref.id) as T;
  }

  get store(): Store {
    return this.service(coreServices.store);
  }

  async start(): Promise<string> {
    const started: Component[] = [];
    try {
      for (const c of this.components) {
        await c.start();
        started.push(c);
      }
    } catch (err) {
      // A start refused half-way (a setting found wrong once the store answers) leaves nothing
      // running: what did start is stopped again, in reverse order, and the store released.
      for (const c of started.reverse()) await c.stop().catch((e: Error) => this.log.error({ err: e.message, component: c.name }, 'component failed to stop after a failed start'));
      this.stopped = true;
      if (this.ownsStore) await this.store.close();
      throw err;
    }
    this.url = await this.server.listen({ host: this.config.server.host, port: this.config.server.port });
    this.log.info({ url: this.url, store: this.store.kind, stages: this.stageOrder }, 'whistle listening');
    return this.url;
  }

  /** Stops taking requests, then drains every component in reverse order. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.server.close();
    for (const c of [...this.components].reverse()) {
      try {
        await c.stop();
      } catch (err) {
        this.log.error({ err: (err as Error).message, component: c.name }, 'component failed to stop cleanly');
      }
    }
    if (this.ownsStore) await this.store.close();
  }
}
