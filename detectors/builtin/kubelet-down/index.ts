// kubelet-down: the node agent's probe of the kubelet's health endpoint keeps failing.
import { defineDetector } from '../../api.ts';
import { kubeletDownConfig } from './config.ts';
import { ID, kubeletDownFindings } from './logic.ts';

export default defineDetector({
  id: ID,
  description: "The node agent's HTTP probe of the kubelet health endpoint has been failing",
  configSchema: kubeletDownConfig,
  async evaluate(ctx, cfg) {
    const rows = await ctx.telemetry.latest({ names: [cfg.metric], windowMs: cfg.lookbackMs, labelKeys: ['probe', 'target'], match: { probe: [cfg.probeName] }, keep: { atMost: 0 } });
    return kubeletDownFindings(ctx.cluster, ctx.now, rows, cfg);
  },
});
