// disk-cleanup decisions, without side effects: which filesystem a low-disk incident names, the
// plan that is recorded, dry-run and ticketed, and how the agent's report reads in the record,
// the incident history and the escalation ticket.
import type { TaskResult } from '../../bootstrap/tasks/contract.ts';
import type { IncidentView } from '../../core/pipeline.ts';

export const ID = 'disk-cleanup';
export const DETECTOR = 'low-disk';
export const TASK = 'node.disk-cleanup';

export type CleanupReport = TaskResult<typeof TASK>;

export interface CleanupTarget {
  node: string;
  mount: string;
}

/**
 * The node and mount of a low-disk incident about bytes. An inode shortage is left to people:
 * the cleanup stops on a bytes target, so it could end "reached" with the inodes still used up.
 */
export function cleanupTarget(inc: IncidentView): CleanupTarget | null {
  const ev = inc.evidence as { node?: unknown; mount?: unknown; resource?: unknown };
  const node = String(ev.node ?? inc.labels.node ?? '');
  const mount = String(ev.mount ?? inc.labels.mount ?? '');
  const resource = String(ev.resource ?? inc.labels.resource ?? '');
  if (!node || !mount.startsWith('/') || resource !== 'bytes') return null;
  return { node, mount };
}

export function cleanupPlan(t: CleanupTarget, targetUsedPercent: number, usedPercent: unknown): string {
  const now = typeof usedPercent === 'number' ? ` (${usedPercent.toFixed(1)}% used)` : '';
  return [
    `free space on ${t.node} ${t.mount}${now}`,
    `  1. node.disk-cleanup on ${t.node}: its configured steps (agent.tasks.diskCleanup), in order, until ${t.mount} is under ${targetUsedPercent}% used`,
    `  2. verify: a sample from ${t.node} newer than the cleanup shows ${t.mount} under ${targetUsedPercent}%`,
  ].join('\n');
}

const MiB = 1024 ** 2;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
const pct = (ratio: number) => `${(ratio * 100).toFixed(1)}%`;

/** Bytes freed per step, as kept in the action's after-record and the incident history. */
export function freedPerStep(r: CleanupReport): { kind: string; bytesFreed: number; filesDeleted: number; skipped?: boolean; reason?: string; error?: string }[] {
  return r.steps.map((s) => ({
    kind: s.kind,
    bytesFreed: s.bytesFreed,
    filesDeleted: s.filesDeleted,
    ...(s.skipped ? { skipped: true } : {}),
    ...(s.reason ? { reason: s.reason } : {}),
    ...(s.error ? { error: s.error } : {}),
  }));
}

export function totalFreed(r: CleanupReport): number {
  return r.steps.reduce((sum, s) => sum + s.bytesFreed, 0);
}

/** One line per step and the before/after, for the history and the escalation ticket. */
export function describeCleanup(r: CleanupReport): string {
  const lines = r.steps.map((s) => {
    const what = s.error ? `failed: ${s.error}` : s.skipped ? `skipped${s.reason ? `: ${s.reason}` : ''}` : `freed ${mib(s.bytesFreed)} (${s.filesDeleted} files)`;
    return `  - ${s.kind}: ${what}`;
  });
  const reached = r.targetReached ? 'target reached' : `target ${pct(r.targetUsedRatio)} not reached`;
  return [`${r.mountPoint}: ${pct(r.before.usedRatio)} -> ${pct(r.after.usedRatio)} used, ${mib(totalFreed(r))} freed, ${reached}`, ...(lines.length ? lines : ['  (no cleanup steps are configured on the node)'])].join('\n');
}

/** The newest used and size samples of the mount, both taken after `since`. */
export interface FreshUsage {
  used: number;
  size: number;
  ts: number;
}

/** Under the target by the node's own measurement (used = size - free, as low-disk judges it). */
export function underTarget(u: FreshUsage | null, targetUsedPercent: number): boolean {
  return u !== null && u.size > 0 && (u.used / u.size) * 100 < targetUsedPercent;
}
