// Kubernetes watching as a stage: one list-then-watch per cluster that has a kubeconfig in
// `clusters[]`, rows into kube_objects / kube_events, the read model the detectors read from those
// tables, and the support team's read-only, audited API proxy. A cluster whose kubeconfig cannot
// be loaded is reported and left out; the others run.
import type { Component } from '../../core/component.ts';
import { coreServices } from '../../core/services.ts';
import { defineStage, type RoutePlugin } from '../../core/stage.ts';
import { kubeProxyRoutes } from '../routes/kube-proxy.ts';
import { kubeSchema } from './config.ts';
import { KubeIngest, kubeApisFor, sourcesFromConfig } from './kube-ingest.ts';
import { kubeServices } from './services.ts';
import { KubeStateReader } from './state-reader.ts';

export const kubeStage = defineStage({
  id: 'kube',
  needsFullSchema: true,
  config: { section: 'kube', schema: kubeSchema },
  needs: {
    store: coreServices.store,
    logger: coreServices.logger,
    registry: coreServices.metrics,
    clusters: coreServices.clusters,
    server: coreServices.server,
    audit: coreServices.audit,
    clock: coreServices.clock,
  },
  provides: { clusterState: kubeServices.clusterState, apis: kubeServices.apis },
  async create({ config, deps }) {
    // The read model exists without watched clusters too: it then reports no observation.
    const clusterState = new KubeStateReader(deps.store, deps.clock);
    const sources = sourcesFromConfig(deps.clusters());
    if (sources.length === 0) return { services: { clusterState, apis: new Map() } };
    const log = deps.logger.child({ component: 'kube' });
    const ingest = new KubeIngest({ store: deps.store, clusters: sources, log, registry: deps.registry, watchTimeoutSeconds: config.watchTimeoutSeconds, writer: config.writer });
    const { apis, problems } = await kubeApisFor(sources);
    for (const p of problems) log.error({ problem: p }, 'kube: cluster left out of the API proxy');
    const proxy: RoutePlugin = async (app) => {
      await app.register(kubeProxyRoutes, {
        clusters: apis,
        operatorTokens: deps.server.operatorTokens,
        audit: (r) =>
          deps.audit.append({
            actor: r.actor,
            action: `kube.proxy.${r.method.toLowerCase()}`,
            cluster: r.cluster,
            subject: r.path,
            detail: { query: r.query, status: r.status, refused: r.refused, durationMs: r.durationMs },
          }),
      });
    };
    const watch: Component = { name: 'kube-ingest', start: async () => ingest.start(), stop: async () => ingest.stop() };
    // The clients are closed after the watchers and every user of them have stopped.
    const clients: Component = { name: 'kube-apis', start: async () => undefined, stop: async () => apis.forEach((a) => a.close()) };
    return { services: { clusterState, apis }, components: [clients, watch], routes: [proxy] };
  },
});
