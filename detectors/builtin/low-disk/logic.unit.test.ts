import { describe, expect, it } from 'vitest';
import { latest, NOW, series } from '../../testing/rows.ts';
import { lowDiskConfig } from './config.ts';
import { lowDiskFindings } from './logic.ts';

const cfg = lowDiskConfig.parse({});
const GiB = 1024 ** 3;
const fs = { mount: '/var', fstype: 'ext4', readonly: 'false', device: '/dev/vda2' };

function disk(node: string, sizeGiB: number, usedGiB: number, labels = fs) {
  return [latest(node, 'node_filesystem_size_bytes', sizeGiB * GiB, labels), latest(node, 'node_filesystem_used_bytes', usedGiB * GiB, labels)];
}
/** Hourly history of used GiB over the last 6 h, `perHour` growth ending at `endGiB` an hour ago. */
function growth(node: string, endGiB: number, perHour: number, mount = '/var') {
  const pts: [number, number][] = [];
  for (let h = 6; h >= 1; h -= 0.25) pts.push([h, (endGiB - (h - 1) * perHour) * GiB]);
  return series(node, 'node_filesystem_used_bytes', { mount }, pts);
}

describe('low-disk', () => {
  it('is quiet for a filesystem below the thresholds and not growing', () => {
    expect(lowDiskFindings('c1', NOW, disk('n1', 100, 50), [growth('n1', 50, 0)], cfg)).toEqual([]);
  });

  it('warns at 85 % used and is critical at 95 %, with a stable fingerprint per node and mount', () => {
    const w = lowDiskFindings('c1', NOW, disk('n1', 100, 86), [], cfg);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ detector: 'low-disk', cluster: 'c1', subject: 'n1:/var:bytes', severity: 'warning', labels: { node: 'n1', mount: '/var', resource: 'bytes' } });
    expect(w[0]!.evidence).toMatchObject({ usedPercent: 86, reasons: ['level'], timeToFullSeconds: null });
    const c = lowDiskFindings('c1', NOW, disk('n1', 100, 96), [], cfg);
    expect(c[0]!.severity).toBe('critical');
    expect(c[0]!.fingerprint).toBe(w[0]!.fingerprint);
    expect(lowDiskFindings('c1', NOW, disk('n2', 100, 96), [], cfg)[0]!.fingerprint).not.toBe(w[0]!.fingerprint);
  });

  it('predicts time to full from the trend: warning within 24 h, critical within 4 h', () => {
    // 50 of 100 GiB used, growing 3 GiB/h: full in ~16.7 h -> warning by trend only.
    const w = lowDiskFindings('c1', NOW, disk('n1', 100, 50), [growth('n1', 49, 3)], cfg);
    expect(w).toHaveLength(1);
    expect(w[0]!.severity).toBe('warning');
    expect(w[0]!.evidence.reasons).toEqual(['trend']);
    const ttf = w[0]!.evidence.timeToFullSeconds as number;
    expect(ttf / 3600).toBeGreaterThan(16);
    expect(ttf / 3600).toBeLessThan(17.5);
    expect(w[0]!.summary).toMatch(/full in ~1[67]\.\d h/);
    expect(Date.parse(w[0]!.evidence.estimatedFullAt as string)).toBe(NOW + ttf * 1000);
    // 80 GiB used, growing 6 GiB/h: ~3.3 h -> critical.
    const c = lowDiskFindings('c1', NOW, disk('n1', 100, 80), [growth('n1', 79, 6)], cfg);
    expect(c[0]!.severity).toBe('critical');
  });

  it('is robust to a single outlier in the history', () => {
    const h = growth('n1', 50, 0);
    const spiky = { ...h, points: h.points.map((p, i) => (i === 10 ? { ...p, v: 99 * GiB } : p)) };
    expect(lowDiskFindings('c1', NOW, disk('n1', 100, 50), [spiky], cfg)).toEqual([]);
  });

  it('needs enough history for a prediction', () => {
    const short = series('n1', 'node_filesystem_used_bytes', { mount: '/var' }, [
      [0.5, 40 * GiB],
      [0.25, 45 * GiB],
    ]);
    expect(lowDiskFindings('c1', NOW, disk('n1', 100, 50), [short], cfg)).toEqual([]);
  });

  it('ignores read-only, ignored types and tiny filesystems', () => {
    const rows = [
      ...disk('n1', 100, 99, { ...fs, readonly: 'true' }),
      ...disk('n1', 100, 99, { ...fs, mount: '/snap', fstype: 'squashfs' }),
      ...disk('n1', 0.05, 0.05, { ...fs, mount: '/boot/efi' }),
    ];
    expect(lowDiskFindings('c1', NOW, rows, [], cfg)).toEqual([]);
  });

  it('checks inodes the same way, separately from bytes', () => {
    const rows = [
      ...disk('n1', 100, 10),
      latest('n1', 'node_filesystem_files', 1_000_000, fs),
      latest('n1', 'node_filesystem_files_used', 970_000, fs),
    ];
    const f = lowDiskFindings('c1', NOW, rows, [], cfg);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ subject: 'n1:/var:inodes', severity: 'critical' });
    // No inode table (btrfs reports 0): no inode check.
    const btrfs = [...disk('n1', 100, 10), latest('n1', 'node_filesystem_files', 0, fs), latest('n1', 'node_filesystem_files_used', 0, fs)];
    expect(lowDiskFindings('c1', NOW, btrfs, [], cfg)).toEqual([]);
  });

  it('rejects inconsistent thresholds with a message naming the field', () => {
    const r = lowDiskConfig.safeParse({ warnPercent: 90, criticalPercent: 80 });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ path: ['criticalPercent'], message: 'must be at least warnPercent' });
    expect(lowDiskConfig.safeParse({ warnPercnt: 90 }).success).toBe(false);
  });
});
