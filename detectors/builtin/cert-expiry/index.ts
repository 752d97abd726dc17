// cert-expiry: certificates the agents watch expire within 30 days (warning) or 7 days (critical).
import { defineDetector } from '../../api.ts';
import { certExpiryConfig } from './config.ts';
import { certExpiryFindings, ID } from './logic.ts';

export default defineDetector({
  id: ID,
  description: 'Certificates watched by node agents expiring soon (30 d warning, 7 d critical) or expired',
  configSchema: certExpiryConfig,
  async evaluate(ctx, cfg) {
    // Only certificates inside the warning horizon come back (most are months away).
    const atMost = cfg.valueIs === 'timestamp' ? (ctx.now + cfg.warnWithinMs) / 1000 : cfg.warnWithinMs / 1000 + cfg.freshMs / 1000;
    const rows = await ctx.telemetry.latest({ names: [cfg.metric], windowMs: cfg.freshMs, labelKeys: ['probe', 'path', 'subject', 'serial'], keep: { atMost } });
    return certExpiryFindings(ctx.cluster, ctx.now, rows, cfg);
  },
});
