// One call to the Eviction API and what its answer means for a drain. The API server checks the
// pod's PodDisruptionBudget and decrements the budget in the same step, so concurrent evictions
// cannot together break a budget; a 429 is the budget (or the server's own throttling) saying "not
// now", which a drain waits out and never forces.
import type { KubeApi, KubeStatus } from '../../ingest/kube/api-client.ts';
import type { PodRef } from './objects.ts';

export type EvictionOutcome =
  /** Accepted: the pod is being deleted with its grace period. */
  | { kind: 'evicted' }
  /** The pod is gone already (404). A namesake recreated meanwhile fails the UID precondition (409, an error): the drain's next listing shows ours gone. */
  | { kind: 'gone' }
  /** A disruption budget does not allow it now; `pdb` when the API named the budget. */
  | { kind: 'blocked'; pdb?: string; message: string }
  /** Anything else (throttling, a transient server error, a refusal): retried until the drain's deadline. */
  | { kind: 'error'; status: number; message: string };

const DISRUPTION_BUDGET_CAUSE = 'DisruptionBudget';
/** "The disruption budget web needs 3 healthy pods and has 3 currently", "The disruption budget web is still being processed by the server." */
const PDB_NAME = /^The disruption budget (\S+) /;

export function interpretEviction(status: number, error: KubeStatus): EvictionOutcome {
  if (status === 404) return { kind: 'gone' };
  const message = error.message ?? `HTTP ${status}`;
  // metav1.StatusCause's Type goes over the wire as "reason".
  const cause = error.details?.causes?.find((c) => c.reason === DISRUPTION_BUDGET_CAUSE);
  if (status === 429 && cause) {
    const pdb = PDB_NAME.exec(cause.message ?? '')?.[1];
    return { kind: 'blocked', ...(pdb ? { pdb } : {}), message: cause.message ?? message };
  }
  // More than one budget selects the pod: the API cannot evict it until someone fixes the budgets.
  if (status === 500 && /more than one PodDisruptionBudget/.test(message)) return { kind: 'blocked', message };
  return { kind: 'error', status, message };
}

export interface EvictOptions {
  /** Overrides the pod's terminationGracePeriodSeconds. */
  gracePeriodSeconds?: number;
  signal?: AbortSignal;
}

/** POST .../pods/{name}/eviction (policy/v1), bound to the pod's UID so that a namesake recreated meanwhile is not evicted. */
export async function evictPod(api: KubeApi, pod: PodRef, opts: EvictOptions = {}): Promise<EvictionOutcome> {
  const body = {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: pod.name, namespace: pod.namespace },
    deleteOptions: {
      preconditions: { uid: pod.uid },
      ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
    },
  };
  const path = `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}/eviction`;
  const res = await api.send('POST', path, body, { signal: opts.signal });
  return res.ok ? { kind: 'evicted' } : interpretEviction(res.status, res.error);
}
