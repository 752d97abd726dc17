// Node remediation tasks: relieve a full filesystem, restart a service. The plane only names what
// it wants relieved or restarted; which files may go and which command restarts a unit are the
// node's own configuration (`agent.tasks.diskCleanup`, `agent.tasks.services`), never a parameter.
import { z } from 'zod';

/** An absolute path with no `..` segment: the node checks that it is one of its mount points. */
const mountPoint = z
  .string()
  .max(4096)
  .regex(/^\/[^\0]*$/, 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."');

/** A systemd-style unit name: cannot carry a path, a flag or a shell word. */
export const unitName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9:_.@-]{0,254}$/, 'must be a unit name like kubelet or containerd.service');

const usage = z.object({ usedBytes: z.number().nonnegative(), sizeBytes: z.number().nonnegative(), usedRatio: z.number().min(0).max(1) });

const stepReport = z.object({
  kind: z.string(),
  bytesFreed: z.number().nonnegative(),
  filesDeleted: z.number().int().nonnegative(),
  /** The step did nothing: its tool is missing, what it cleans is on another filesystem, or the target was already reached. */
  skipped: z.boolean().optional(),
  reason: z.string().optional(),
  /** The step ran and failed (a command's exit status and stderr); the next step still runs. */
  error: z.string().optional(),
  /** Files or roots the step left alone for a reason worth reading (a root resolving to `/`, an unlink refused). */
  warnings: z.array(z.string()).optional(),
});

export const nodeOpsTasks = {
  /** Runs the node's configured cleanup steps in order, stopping once the filesystem is under the target. */
  'node.disk-cleanup': {
    params: z.strictObject({
      mountPoint,
      /** Stop as soon as used/size is below this. */
      targetUsedRatio: z.number().gt(0).lt(1),
    }),
    result: z.object({
      mountPoint: z.string(),
      targetUsedRatio: z.number(),
      before: usage,
      after: usage,
      targetReached: z.boolean(),
      steps: z.array(stepReport),
    }),
  },
  /** Restarts one of the node's configured units with its configured command, then waits for its probe. */
  'node.service-restart': {
    params: z.strictObject({ unit: unitName }),
    result: z.object({
      unit: z.string(),
      exitCode: z.number().int(),
      stdoutTail: z.string(),
      stderrTail: z.string(),
      /** Whether the unit's probe answered within its wait; null when the unit has no probe. */
      probeOk: z.boolean().nullable(),
      /** From the command's end until the probe answered or the wait ran out. */
      waitedMs: z.number().nonnegative(),
    }),
  },
};
