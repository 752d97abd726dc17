// Kubernetes watching as a Whistle extension: one list-then-watch per cluster that has a
// kubeconfig in `clusters[]`, rows into kube_objects / kube_events (which the detectors read as the
// cluster's current state), and the support team's read-only API proxy. A cluster whose kubeconfig
// cannot be loaded is reported and left out; the others run.
import type { Extension } from '../../app/whistle.ts';
import type { RoutePlugin } from '../server.ts';
import { kubeProxyRoutes } from '../routes/kube-proxy.ts';
import { KubeIngest, kubeApisFor, sourcesFromConfig } from './kube-ingest.ts';

export function kubeExtension(): Extension {
  return {
    name: 'kube',
    async create(ctx) {
      const sources = sourcesFromConfig(ctx.config.clusters);
      if (sources.length === 0) return {};
      const log = ctx.log.child({ component: 'kube' });
      const ingest = new KubeIngest({ store: ctx.store, clusters: sources, log, registry: ctx.registry });
      const { apis, problems } = await kubeApisFor(sources);
      for (const p of problems) log.error({ problem: p }, 'kube: cluster left out of the API proxy');
      const proxy: RoutePlugin = async (app) => {
        await app.register(kubeProxyRoutes, {
          clusters: apis,
          operatorTokens: ctx.config.server.operatorTokens,
          audit: (r) =>
            ctx.audit.record({
              actor: r.actor,
              action: `kube.proxy.${r.method.toLowerCase()}`,
              cluster: r.cluster,
              subject: r.path,
              detail: { query: r.query, status: r.status, refused: r.refused, durationMs: r.durationMs },
            }),
        });
      };
      return {
        components: [
          {
            name: 'kube-ingest',
            start: async () => ingest.start(),
            stop: async () => ingest.stop(),
          },
        ],
        routes: [proxy],
      };
    },
  };
}
