// node-not-ready: a Kubernetes node's Ready condition is False/Unknown, or it reports pressure.
import { defineDetector } from '../../api.ts';
import { nodeNotReadyConfig } from './config.ts';
import { ID, nodeNotReadyFindings } from './logic.ts';

export default defineDetector({
  id: ID,
  description: 'A Kubernetes node is NotReady (Ready False/Unknown) or reports memory/disk/PID/network pressure',
  configSchema: nodeNotReadyConfig,
  async evaluate(ctx, cfg) {
    const observedAt = await ctx.kube.observedAt();
    if (observedAt === null || ctx.now - observedAt > cfg.staleMs) return [];
    return nodeNotReadyFindings(ctx.cluster, ctx.now, await ctx.kube.nodes(), cfg);
  },
});
