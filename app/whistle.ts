// Assembles a running Whistle from its configuration: store (schema migrated), writer, node
// registry, HTTP server, and the background components of later stages. Start order is downstream
// first (store, writer, then the server that feeds them); stop order is the reverse.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { WhistleConfig } from '../core/config/schema.ts';
import type { Component } from '../core/component.ts';
import { createLogger } from '../core/log.ts';
import { createRegistry, type Registry } from '../core/metrics.ts';
import { createIngestMetrics } from '../ingest/metrics.ts';
import { NodeRegistry } from '../ingest/node-registry.ts';
import { buildServer, type RoutePlugin } from '../ingest/server.ts';
import { BatchWriter } from '../ingest/writer.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { AuditLog } from './audit.ts';
import type { AppContext } from './context.ts';
import { join } from 'node:path';

/** A stage of the pipeline beyond ingest (detectors, incidents, notifiers, remediators, watchers). */
export interface Extension {
  name: string;
  /** Builds the stage's components and routes once the core is up. */
  create(ctx: AppContext): Promise<{ components?: Component[]; routes?: RoutePlugin[] }>;
}

export interface WhistleOptions {
  logger?: Logger;
  registry?: Registry;
  /** Use an already open store (tests share one; the app then does not close it). */
  store?: Store;
  extensions?: Extension[];
}

export class Whistle {
  private components: Component[] = [];
  private stopped = false;
  url = '';

  private constructor(
    readonly ctx: AppContext,
    readonly server: FastifyInstance,
    private readonly ownsStore: boolean,
  ) {}

  static async create(config: WhistleConfig, opts: WhistleOptions = {}): Promise<Whistle> {
    const log = opts.logger ?? createLogger();
    const registry = opts.registry ?? createRegistry();
    const store = opts.store ?? (await openStore(config.store));
    const metrics = createIngestMetrics(registry);
    const nodes = new NodeRegistry(store, () => config.clusters, log.child({ component: 'nodes' }));
    await nodes.load();
    const samplesWriter = new BatchWriter(
      store,
      {
        table: 'samples',
        batchSize: config.writer.batchSize,
        flushIntervalMs: config.writer.flushIntervalMs,
        maxQueueSamples: config.writer.maxQueueSamples,
        maxSpoolBytes: config.writer.maxSpoolBytes,
        spoolDir: join(config.writer.spoolDir, 'samples'),
        retryInitialMs: config.writer.retryInitialMs,
        retryMaxMs: config.writer.retryMaxMs,
      },
      metrics,
      log.child({ component: 'writer' }),
    );
    const ctx: AppContext = { config, store, log, registry, metrics, nodes, samplesWriter, audit: new AuditLog(store, log) };
    const routes: RoutePlugin[] = [];
    const components: Component[] = [samplesWriter];
    for (const ext of opts.extensions ?? []) {
      const built = await ext.create(ctx);
      components.push(...(built.components ?? []));
      routes.push(...(built.routes ?? []));
    }
    const server = await buildServer(ctx, routes);
    const w = new Whistle(ctx, server, !opts.store);
    w.components = components;
    return w;
  }

  async start(): Promise<string> {
    for (const c of this.components) await c.start();
    this.url = await this.server.listen({ host: this.ctx.config.server.host, port: this.ctx.config.server.port });
    this.ctx.log.info({ url: this.url, store: this.ctx.store.kind }, 'whistle listening');
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
        this.ctx.log.error({ err: (err as Error).message, component: c.name }, 'component failed to stop cleanly');
      }
    }
    if (this.ownsStore) await this.ctx.store.close();
  }
}
