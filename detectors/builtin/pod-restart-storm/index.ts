// pod-restart-storm: crash-looping containers, and storms of many pods restarting at once.
import { defineDetector } from '../../api.ts';
import { podRestartStormConfig } from './config.ts';
import { ID, podRestartFindings } from './logic.ts';

export default defineDetector({
  id: ID,
  description: 'Containers restarting repeatedly (crash loop), or many pods restarting in the same window (one grouped storm finding)',
  configSchema: podRestartStormConfig,
  async evaluate(ctx, cfg) {
    const observedAt = await ctx.kube.observedAt();
    if (observedAt === null || ctx.now - observedAt > cfg.staleMs) return [];
    const [pods, workloads] = await Promise.all([ctx.kube.pods({ restartWindowMs: cfg.windowMs }), ctx.kube.workloads()]);
    return podRestartFindings(ctx.cluster, ctx.now, pods, cfg, workloads);
  },
});
