// low-disk: per mount, bytes and inodes, from the level and from a robust prediction.
import { defineDetector } from '../../api.ts';
import { lowDiskConfig } from './config.ts';
import { ID, lowDiskFindings } from './logic.ts';

export default defineDetector({
  id: ID,
  description: 'Filesystem bytes or inodes nearly used up, or predicted to run out soon (Theil-Sen trend over the recent window)',
  configSchema: lowDiskConfig,
  async evaluate(ctx, cfg) {
    const m = cfg.metrics;
    // Read-only and ignored filesystem types are filtered in ClickHouse already (and again in the logic).
    const filter = { exclude: { readonly: ['true'], fstype: cfg.ignoreFsTypes } };
    const level = { windowMs: cfg.freshMs, minRatio: cfg.warnPercent / 100, labelKeys: ['mount', 'fstype', 'readonly', 'device'], ...filter };
    const [bytes, inodes, history] = await Promise.all([
      ctx.telemetry.ratioAbove({ numerator: m.used, denominator: m.size, ...level }),
      ctx.telemetry.ratioAbove({ numerator: m.filesUsed, denominator: m.files, ...level }),
      ctx.telemetry.series({ names: [m.used, m.size, m.filesUsed, m.files], windowMs: cfg.windowMs, bucketMs: cfg.bucketMs, labelKeys: ['mount', 'fstype', 'device'], ...filter }),
    ]);
    return lowDiskFindings(ctx.cluster, ctx.now, { bytes, inodes, history }, cfg);
  },
});
