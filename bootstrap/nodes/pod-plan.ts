// Which pods of a node a drain evicts and which it leaves, and why. Pure: the drain loop and its dry
// run both decide through here, so the plan a dry run prints is the one a real drain follows.
import { podRef, type PodObject, type PodRef } from './objects.ts';

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export type SkipReason =
  /** The DaemonSet controller puts it straight back (it tolerates the cordon); evicting it only churns. */
  | 'daemonset'
  /** A static pod's mirror: the kubelet runs it from a file, the API cannot move it. */
  | 'mirror'
  /** Already being deleted by someone else. */
  | 'terminating'
  /** Succeeded or Failed: it holds no workload to move. */
  | 'completed'
  /** No controller would recreate it elsewhere: evicting it loses it (unmanagedPods: 'evict' to do so anyway). */
  | 'unmanaged';

export interface SkippedPod extends PodRef {
  reason: SkipReason;
}

export interface PodPlanOptions {
  /** Pods no controller owns: left on the node (default) or evicted like the rest. */
  unmanagedPods?: 'skip' | 'evict';
}

export function skipReason(pod: PodObject, opts: PodPlanOptions = {}): SkipReason | null {
  const meta = pod.metadata;
  if (meta.annotations && MIRROR_ANNOTATION in meta.annotations) return 'mirror';
  const controller = meta.ownerReferences?.find((o) => o.controller);
  if (controller?.kind === 'DaemonSet') return 'daemonset';
  if (meta.deletionTimestamp) return 'terminating';
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 'completed';
  if (!controller && opts.unmanagedPods !== 'evict') return 'unmanaged';
  return null;
}

export interface PodPlan {
  evict: PodRef[];
  skip: SkippedPod[];
}

export function planPods(pods: PodObject[], opts: PodPlanOptions = {}): PodPlan {
  const plan: PodPlan = { evict: [], skip: [] };
  for (const p of pods) {
    const reason = skipReason(p, opts);
    if (reason) plan.skip.push({ ...podRef(p), reason });
    else plan.evict.push(podRef(p));
  }
  return plan;
}
