// `node.disk-cleanup`: relieve one filesystem by running this node's configured steps in order,
// stopping as soon as it is under the plane's target. The plane chooses the mount and the target;
// what may be deleted is only ever this node's configuration (see disk-cleanup-config.ts).
import type { TaskResult } from '../../bootstrap/tasks/contract.ts';
import { runStep } from './disk-cleanup-steps.ts';
import { resolveMount, usageOf } from './disk-cleanup-usage.ts';
import type { TaskHandler } from './handler.ts';

type StepReport = TaskResult<'node.disk-cleanup'>['steps'][number];

export const nodeDiskCleanup: TaskHandler<'node.disk-cleanup'> = async (p, env, signal) => {
  const steps = env.diskCleanup?.steps ?? [];
  if (steps.length === 0) throw new Error('no cleanup steps are configured on this node (agent.tasks.diskCleanup.steps)');
  const mount = await resolveMount(p.mountPoint);
  const underTarget = async () => (await usageOf(mount.path)).usedRatio < p.targetUsedRatio;
  const before = await usageOf(mount.path);
  const reports: StepReport[] = [];
  for (const step of steps) {
    signal.throwIfAborted();
    const start = await usageOf(mount.path);
    if (start.usedRatio < p.targetUsedRatio) {
      reports.push({ kind: step.kind, bytesFreed: 0, filesDeleted: 0, skipped: true, reason: 'target reached' });
      continue;
    }
    const outcome = await runStep(step, { mount, underTarget, signal });
    const end = await usageOf(mount.path);
    // Other writers keep writing meanwhile; a step that freed less than they wrote freed nothing visible.
    reports.push({ kind: step.kind, bytesFreed: Math.max(0, start.usedBytes - end.usedBytes), ...outcome });
  }
  const after = await usageOf(mount.path);
  return { mountPoint: p.mountPoint, targetUsedRatio: p.targetUsedRatio, before, after, targetReached: after.usedRatio < p.targetUsedRatio, steps: reports };
};
