import { describe, expect, it } from 'vitest';
import type { RatioRow, SeriesRow } from '../../api.ts';
import { NOW, series } from '../../testing/rows.ts';
import { lowDiskConfig } from './config.ts';
import { lowDiskFindings } from './logic.ts';

const cfg = lowDiskConfig.parse({});
const GiB = 1024 ** 3;
const fs = { mount: '/var', fstype: 'ext4', readonly: 'false', device: '/dev/vda2' };

/** A row of ratioAbove: the filesystem is over the warning level. */
function level(node: string, totalGiB: number, usedGiB: number, labels: Record<string, string> = fs, unit = GiB): RatioRow {
  return { node, labels, numerator: usedGiB * unit, denominator: totalGiB * unit, ts: NOW - 5_000 };
}
/** Bucket means every 15 min over the last 6 h: used growing `perHour` to `nowGiB`, and the size. */
function history(node: string, nowGiB: number, perHour: number, totalGiB = 100, mount = '/var', names = ['node_filesystem_used_bytes', 'node_filesystem_size_bytes']): SeriesRow[] {
  const used: [number, number][] = [];
  const total: [number, number][] = [];
  for (let h = 6; h >= 0.25; h -= 0.25) {
    used.push([h, (nowGiB - h * perHour) * GiB]);
    total.push([h, totalGiB * GiB]);
  }
  const labels = { mount, fstype: 'ext4', device: '/dev/vda2' };
  return [series(node, names[0]!, labels, used), series(node, names[1]!, labels, total)];
}
const rows = (r: { bytes?: RatioRow[]; inodes?: RatioRow[]; history?: SeriesRow[] }) => ({ bytes: r.bytes ?? [], inodes: r.inodes ?? [], history: r.history ?? [] });

describe('low-disk', () => {
  it('is quiet for a filesystem below the thresholds and not growing', () => {
    expect(lowDiskFindings('c1', NOW, rows({ history: history('n1', 50, 0) }), cfg)).toEqual([]);
  });

  it('warns at 85 % used and is critical at 95 %, with a stable fingerprint per node and mount', () => {
    const w = lowDiskFindings('c1', NOW, rows({ bytes: [level('n1', 100, 86)] }), cfg);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ detector: 'low-disk', cluster: 'c1', subject: 'n1:/var:bytes', severity: 'warning', labels: { node: 'n1', mount: '/var', resource: 'bytes' } });
    expect(w[0]!.evidence).toMatchObject({ usedPercent: 86, reasons: ['level'], timeToFullSeconds: null, usedMeasured: true });
    const c = lowDiskFindings('c1', NOW, rows({ bytes: [level('n1', 100, 96)] }), cfg);
    expect(c[0]!.severity).toBe('critical');
    expect(c[0]!.fingerprint).toBe(w[0]!.fingerprint);
    expect(lowDiskFindings('c1', NOW, rows({ bytes: [level('n2', 100, 96)] }), cfg)[0]!.fingerprint).not.toBe(w[0]!.fingerprint);
  });

  it('predicts time to full from the trend: warning within 24 h, critical within 4 h', () => {
    // 50 of 100 GiB used, growing 3 GiB/h: full in ~16.7 h -> warning by trend only.
    const w = lowDiskFindings('c1', NOW, rows({ history: history('n1', 50, 3) }), cfg);
    expect(w).toHaveLength(1);
    expect(w[0]!.severity).toBe('warning');
    expect(w[0]!.evidence).toMatchObject({ reasons: ['trend'], usedMeasured: false });
    const ttf = w[0]!.evidence.timeToFullSeconds as number;
    expect(ttf / 3600).toBeGreaterThan(16.3);
    expect(ttf / 3600).toBeLessThan(17);
    expect(w[0]!.summary).toMatch(/full in ~16\.\d h at 3\.0 GiB\/h/);
    expect(Date.parse(w[0]!.evidence.estimatedFullAt as string)).toBe(NOW + ttf * 1000);
    // Over the level too: the measured level is used for the time to full. 88 GiB, 6 GiB/h: 2 h.
    const c = lowDiskFindings('c1', NOW, rows({ bytes: [level('n1', 100, 88)], history: history('n1', 87, 6) }), cfg);
    expect(c[0]!.severity).toBe('critical');
    expect(c[0]!.evidence.reasons).toEqual(['level', 'trend']);
    expect(Math.round((c[0]!.evidence.timeToFullSeconds as number) / 60)).toBe(120);
  });

  it('is robust to a single outlier in the history', () => {
    const [used, total] = history('n1', 50, 0);
    const spiky = { ...used!, points: used!.points.map((p, i) => (i === 10 ? { ...p, v: 99 * GiB } : p)) };
    expect(lowDiskFindings('c1', NOW, rows({ history: [spiky, total!] }), cfg)).toEqual([]);
  });

  it('needs enough, and current, history for a prediction', () => {
    const labels = { mount: '/var', fstype: 'ext4', device: '/dev/vda2' };
    const short = [
      series('n1', 'node_filesystem_used_bytes', labels, [
        [0.5, 40 * GiB],
        [0.25, 45 * GiB],
      ]),
      series('n1', 'node_filesystem_size_bytes', labels, [[0.25, 100 * GiB]]),
    ];
    expect(lowDiskFindings('c1', NOW, rows({ history: short }), cfg)).toEqual([]);
    // Growing fast, but the node stopped reporting two hours ago: no prediction from stale history.
    const stale = history('n1', 50, 6).map((s) => ({ ...s, points: s.points.map((p) => ({ ...p, t: p.t - 2 * 3_600_000 })) }));
    expect(lowDiskFindings('c1', NOW, rows({ history: stale }), cfg)).toEqual([]);
  });

  it('ignores read-only, ignored types and tiny filesystems', () => {
    const bytes = [level('n1', 100, 99, { ...fs, readonly: 'true' }), level('n1', 100, 99, { ...fs, mount: '/snap', fstype: 'squashfs' }), level('n1', 0.05, 0.05, { ...fs, mount: '/boot/efi' })];
    expect(lowDiskFindings('c1', NOW, rows({ bytes }), cfg)).toEqual([]);
  });

  it('checks inodes the same way, separately from bytes', () => {
    const f = lowDiskFindings('c1', NOW, rows({ inodes: [level('n1', 1_000_000, 970_000, fs, 1)] }), cfg);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ subject: 'n1:/var:inodes', severity: 'critical' });
    expect(f[0]!.summary).toMatch(/inodes 97\.0% used \(970000 inodes of 1\.0M inodes\)/);
    // A filesystem with almost no inodes is not judged on them.
    expect(lowDiskFindings('c1', NOW, rows({ inodes: [level('n1', 100, 99, fs, 1)] }), cfg)).toEqual([]);
  });

  it('rejects inconsistent thresholds with a message naming the field', () => {
    const r = lowDiskConfig.safeParse({ warnPercent: 90, criticalPercent: 80 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ path: ['criticalPercent'], message: 'must be at least warnPercent' });
    expect(lowDiskConfig.safeParse({ warnPercnt: 90 }).success).toBe(false);
  });
});
