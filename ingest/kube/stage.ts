// Kubernetes watching as a stage: one list-then-watch per managed cluster that has Kubernetes
// access (a kubeconfig file in `clusters[]`, or one given through the API), rows into kube_objects
// / kube_events, the read model the detectors read from those tables, and the support team's
// read-only, audited API proxy. The set follows the cluster catalog: a cluster created with access
// is watched and proxied at once, a deleted one is stopped and leaves the proxy, without a
// restart. A cluster whose kubeconfig cannot be loaded is reported and left out; the others run.
import type { ClusterChange } from '../../core/clusters/catalog.ts';
import type { Component } from '../../core/component.ts';
import { coreServices } from '../../core/services.ts';
import { defineStage, type RoutePlugin } from '../../core/stage.ts';
import { kubeProxyRoutes } from '../routes/kube-proxy.ts';
import { kubeSchema } from './config.ts';
import { KubeIngest, kubeApisFor, sourcesFromCatalog } from './kube-ingest.ts';
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
    const log = deps.logger.child({ component: 'kube' });
    const sources = sourcesFromCatalog(deps.clusters);
    const ingest = new KubeIngest({ store: deps.store, clusters: sources, log, registry: deps.registry, watchTimeoutSeconds: config.watchTimeoutSeconds, writer: config.writer });
    // One map, read at each request by the proxy and by whoever drains nodes: changed in place.
    const { apis, problems } = await kubeApisFor(sources);
    for (const p of problems) log.error({ problem: p }, 'kube: cluster left out of the API proxy');

    // Catalog changes are applied one after another, so a create and a delete of one name keep their order.
    let applying: Promise<void> = Promise.resolve();
    const apply = async (change: ClusterChange): Promise<void> => {
      const name = change.name;
      await ingest.remove(name);
      apis.get(name)?.close();
      apis.delete(name);
      if (change.kind === 'deleted') return log.info({ cluster: name }, 'kube: cluster deleted, watchers stopped');
      const [src] = sourcesFromCatalog({ names: () => [name], kubeAccess: (n) => deps.clusters.kubeAccess(n) });
      if (!src) return;
      const built = await kubeApisFor([src]);
      for (const p of built.problems) log.error({ problem: p }, 'kube: cluster left out of the API proxy');
      for (const [n, api] of built.apis) apis.set(n, api);
      ingest.add(src);
      log.info({ cluster: name }, 'kube: watching a new cluster');
    };
    let unsubscribe = () => {};
    const watch: Component = {
      name: 'kube-ingest',
      start: async () => {
        ingest.start();
        unsubscribe = deps.clusters.onChange((change) => {
          applying = applying.then(() => apply(change)).catch((err: Error) => log.error({ err: err.message, cluster: change.name }, 'kube: applying a cluster change failed'));
        });
      },
      stop: async () => {
        unsubscribe();
        await applying;
        await ingest.stop();
      },
    };
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
    // The clients are closed after the watchers and every user of them have stopped.
    const clients: Component = { name: 'kube-apis', start: async () => undefined, stop: async () => apis.forEach((a) => a.close()) };
    return { services: { clusterState, apis }, components: [clients, watch], routes: [proxy] };
  },
});
