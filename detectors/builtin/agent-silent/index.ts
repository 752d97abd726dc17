// agent-silent: a registered, authorized node agent has sent nothing for a few intervals.
import { defineDetector } from '../../api.ts';
import { agentSilentConfig } from './config.ts';
import { agentSilentFindings, ID, silentAfterMs } from './logic.ts';

export default defineDetector({
  id: ID,
  description: 'A registered, authorized node agent has sent nothing for several intervals',
  configSchema: agentSilentConfig,
  async evaluate(ctx, cfg) {
    const nodes = ctx.registeredNodes().filter((n) => n.status === 'authorized');
    if (nodes.length === 0) return [];
    const lastSeen = await ctx.telemetry.lastSeen({ recentMs: silentAfterMs(cfg), lookbackMs: cfg.lookbackMs, nodes: nodes.map((n) => n.node) });
    return agentSilentFindings(ctx.cluster, ctx.now, nodes, lastSeen, cfg);
  },
});
