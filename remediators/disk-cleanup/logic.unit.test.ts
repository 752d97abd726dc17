import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../core/pipeline.ts';
import { cleanupPlan, cleanupTarget, describeCleanup, freedPerStep, totalFreed, underTarget, type CleanupReport } from './logic.ts';

const MiB = 1024 ** 2;

function incident(evidence: Record<string, unknown>, labels: Record<string, string> = {}): IncidentView {
  return { id: 'i', fingerprint: 'f', cluster: 'c1', detector: 'low-disk', subject: 'n1:/var:bytes', severity: 'warning', state: 'open', summary: '', openedAt: 0, updatedAt: 0, labels, evidence };
}

const report: CleanupReport = {
  mountPoint: '/var',
  targetUsedRatio: 0.75,
  before: { usedBytes: 18 * MiB, sizeBytes: 20 * MiB, usedRatio: 0.9 },
  after: { usedBytes: 14 * MiB, sizeBytes: 20 * MiB, usedRatio: 0.7 },
  targetReached: true,
  steps: [
    { kind: 'container-images', bytesFreed: 0, filesDeleted: 0, skipped: true, reason: 'crictl not found' },
    { kind: 'rotated-logs', bytesFreed: 3 * MiB, filesDeleted: 3 },
    { kind: 'files', bytesFreed: MiB, filesDeleted: 1, error: 'unlink refused', warnings: ['x'] },
  ],
};

describe('disk-cleanup logic', () => {
  it('takes the node and mount of a bytes incident, and leaves inode shortages and odd evidence alone', () => {
    expect(cleanupTarget(incident({ node: 'n1', mount: '/var', resource: 'bytes' }))).toEqual({ node: 'n1', mount: '/var' });
    expect(cleanupTarget(incident({}, { node: 'n1', mount: '/var', resource: 'bytes' }))).toEqual({ node: 'n1', mount: '/var' });
    expect(cleanupTarget(incident({ node: 'n1', mount: '/var', resource: 'inodes' }))).toBeNull();
    expect(cleanupTarget(incident({ node: 'n1', mount: 'var', resource: 'bytes' }))).toBeNull();
    expect(cleanupTarget(incident({ mount: '/var', resource: 'bytes' }))).toBeNull();
  });

  it('the plan names the node, the mount and the target', () => {
    const plan = cleanupPlan({ node: 'n1', mount: '/var' }, 75, 91.25);
    expect(plan.split('\n')[0]).toBe('free space on n1 /var (91.3% used)');
    expect(plan).toContain('until /var is under 75% used');
  });

  it('keeps bytes freed per step and says what each step did', () => {
    expect(totalFreed(report)).toBe(4 * MiB);
    expect(freedPerStep(report)).toEqual([
      { kind: 'container-images', bytesFreed: 0, filesDeleted: 0, skipped: true, reason: 'crictl not found' },
      { kind: 'rotated-logs', bytesFreed: 3 * MiB, filesDeleted: 3 },
      { kind: 'files', bytesFreed: MiB, filesDeleted: 1, error: 'unlink refused' },
    ]);
    expect(describeCleanup(report).split('\n')).toEqual([
      '/var: 90.0% -> 70.0% used, 4.0 MiB freed, target reached',
      '  - container-images: skipped: crictl not found',
      '  - rotated-logs: freed 3.0 MiB (3 files)',
      '  - files: failed: unlink refused',
    ]);
    expect(describeCleanup({ ...report, steps: [], targetReached: false })).toContain('target 75.0% not reached\n  (no cleanup steps are configured on the node)');
  });

  it('is under the target only with a fresh sample below it', () => {
    expect(underTarget(null, 75)).toBe(false);
    expect(underTarget({ used: 74, size: 100, ts: 1 }, 75)).toBe(true);
    expect(underTarget({ used: 75, size: 100, ts: 1 }, 75)).toBe(false);
    expect(underTarget({ used: 0, size: 0, ts: 1 }, 75)).toBe(false);
  });
});
