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
    // Cheap scan of the recent past for everyone; the long lookback only for the few not in it.
    const recentMs = silentAfterMs(cfg);
    const recent = await ctx.telemetry.lastSeen({ recentMs, lookbackMs: recentMs });
    const quiet = nodes.filter((n) => !recent.has(n.node)).map((n) => n.node);
    const lastSeen = quiet.length > 0 ? await ctx.telemetry.lastSeen({ recentMs: 0, lookbackMs: cfg.lookbackMs, olderFor: quiet }) : recent;
    if (quiet.length > 0) for (const [k, v] of recent) lastSeen.set(k, v);
    return agentSilentFindings(ctx.cluster, ctx.now, nodes, lastSeen, cfg);
  },
});
