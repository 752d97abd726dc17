// cordon-drain configuration (`remediation.cordonDrain`; `enabled` is added by the stage). The
// cluster's Kubernetes API (`kube.clusters[]`'s kubeconfig) is what it acts through; without one a
// cluster's incidents go to a person.
import { z } from 'zod';

export const cordonDrainConfig = z.strictObject({
  /**
   * The whole drain: evictions and waiting for the pods to go. A disruption budget that keeps
   * answering 429 is waited on until then, never forced; then the next chain step (a person) has it.
   */
  drainTimeoutMs: z.number().int().positive().default(300_000),
  /**
   * After the drain, how long the node may take to be healthy again (Ready, and the incident's own
   * trouble gone) before a person is told. The node stays cordoned meanwhile and afterwards.
   */
  recoverTimeoutMs: z.number().int().positive().default(600_000),
  /** How often the node is read while waiting for it to recover. */
  pollMs: z.number().int().positive().default(2_000),
  /** Nodes Whistle cordoned whose incident has ended are looked at this often, to uncordon the ones Ready again. */
  reconcileMs: z.number().int().positive().default(15_000),
  /** Pods no controller owns: left on the node (default: evicting them loses them) or evicted too. */
  unmanagedPods: z.enum(['skip', 'evict']).default('skip'),
  /** Overrides the pods' terminationGracePeriodSeconds for the evictions. */
  gracePeriodSeconds: z.number().int().nonnegative().optional(),
});

export type CordonDrainConfig = z.output<typeof cordonDrainConfig>;
