// `remediation.chains`: per detector id, the remediators that take its incidents in turn. The last
// step is always a person (the escalation ticket); it is not written.
import { z } from 'zod';

export const chainStep = z.strictObject({
  /** A built-in remediator's id (service-restart, disk-cleanup, ...). */
  remediator: z.string().min(1),
  /** The step must verify within this long after it acted, or the next step takes over. */
  timeoutMs: z.number().int().positive().optional(),
});

export type ChainStep = z.output<typeof chainStep>;

export const chainsSchema = z.record(z.string().min(1), z.array(chainStep).min(1, 'needs at least one step')).default({});

/**
 * What a careful operator would choose when `remediation.chains` does not name a detector: the
 * gentlest fix first, a bigger one next, then a person. Each step's timeout bounds its
 * verification (after the action itself), a little over the remediator's own verify wait.
 */
export const DEFAULT_CHAINS: Readonly<Record<string, readonly ChainStep[]>> = {
  // Restart the kubelet; if it stays down, move the workloads off the node; then a person.
  'kubelet-down': [
    { remediator: 'service-restart', timeoutMs: 90_000 },
    { remediator: 'cordon-drain', timeoutMs: 600_000 },
  ],
  // Move the workloads off the node and wait for it to come back; then a person.
  'node-not-ready': [{ remediator: 'cordon-drain', timeoutMs: 600_000 }],
  // Clean up what the node's configuration allows; then a person.
  'low-disk': [{ remediator: 'disk-cleanup', timeoutMs: 90_000 }],
};
