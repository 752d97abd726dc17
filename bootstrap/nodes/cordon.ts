// Cordon and uncordon, marked: a node Whistle cordons carries who cordoned it and when, so that
// Whistle uncordons only what it cordoned itself and never undoes an operator's (or another
// actor's) cordon. Each write is a merge patch conditional on the resourceVersion that was read, so
// a change made between the read and the write is seen (409) and decided again, not overwritten.
import { NotFoundError } from '../../core/errors.ts';
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import { NodeOperationRefused } from './errors.ts';
import type { NodeObject } from './objects.ts';
import { assertNotLastControlPlane, isCordoned } from './readiness.ts';

export const CORDONED_BY = 'whistle.io/cordoned-by';
export const CORDONED_AT = 'whistle.io/cordoned-at';

export interface CordonOptions {
  /** Who in Whistle asks, e.g. `remediation/<incident>` or `upgrade/<rollout>`; written to the annotation. */
  by: string;
  signal?: AbortSignal;
}

export interface CordonResult {
  node: string;
  /** False when the node already was as asked (nothing written). */
  changed: boolean;
  /** Who cordoned the node: the annotation's value, null when cordoned outside Whistle (or not cordoned). */
  cordonedBy: string | null;
}

const CONFLICT_ATTEMPTS = 5;
const MERGE_PATCH = 'application/merge-patch+json';

export async function getNode(api: KubeApi, node: string, signal?: AbortSignal): Promise<NodeObject> {
  const res = await api.send<NodeObject>('GET', `/api/v1/nodes/${encodeURIComponent(node)}`, undefined, { signal });
  if (res.ok) return res.value;
  if (res.status === 404) throw new NotFoundError(`node ${node} not found`);
  throw new Error(`GET node ${node}: ${res.status} ${res.error.message}`);
}

/** Merge-patches `node` unless its resourceVersion moved since `seen` was read; false on that conflict. */
async function patchIfUnchanged(api: KubeApi, seen: NodeObject, patch: { annotations: Record<string, string | null>; unschedulable?: boolean | null }, signal?: AbortSignal): Promise<boolean> {
  const body = {
    metadata: { resourceVersion: seen.metadata.resourceVersion, annotations: patch.annotations },
    ...(patch.unschedulable !== undefined ? { spec: { unschedulable: patch.unschedulable } } : {}),
  };
  const res = await api.send('PATCH', `/api/v1/nodes/${encodeURIComponent(seen.metadata.name)}`, body, { contentType: MERGE_PATCH, signal });
  if (res.ok) return true;
  if (res.status === 409) return false;
  if (res.status === 404) throw new NotFoundError(`node ${seen.metadata.name} not found`);
  throw new Error(`PATCH node ${seen.metadata.name}: ${res.status} ${res.error.message}`);
}

async function untilWritten<T>(node: string, what: string, attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < CONFLICT_ATTEMPTS; i++) {
    const done = await attempt();
    if (done !== undefined) return done;
  }
  throw new Error(`${what} ${node}: the node kept changing under ${CONFLICT_ATTEMPTS} conditional writes (409 each time)`);
}

/**
 * Sets spec.unschedulable and marks the node as cordoned by `by`. A node already cordoned is left as
 * it is (its mark included): `cordonedBy` then says whose cordon it is, null for one made outside Whistle.
 */
export function cordon(api: KubeApi, node: string, opts: CordonOptions): Promise<CordonResult> {
  return untilWritten(node, 'cordon', async () => {
    const seen = await getNode(api, node, opts.signal);
    if (isCordoned(seen)) return { node, changed: false, cordonedBy: seen.metadata.annotations?.[CORDONED_BY] ?? null };
    await assertNotLastControlPlane(api, seen, 'cordon', opts.signal);
    const annotations = { [CORDONED_BY]: opts.by, [CORDONED_AT]: new Date().toISOString() };
    if (!(await patchIfUnchanged(api, seen, { annotations, unschedulable: true }, opts.signal))) return undefined;
    return { node, changed: true, cordonedBy: opts.by };
  });
}

/**
 * Clears spec.unschedulable and the mark, only when the mark says `by` cordoned the node; a node
 * cordoned by anyone else is refused (NodeOperationRefused 'cordoned-by-other'). A node that is not
 * cordoned is left alone, except that a mark of `by` left behind (someone uncordoned by hand) is removed.
 */
export function uncordon(api: KubeApi, node: string, opts: CordonOptions): Promise<CordonResult> {
  return untilWritten(node, 'uncordon', async () => {
    const seen = await getNode(api, node, opts.signal);
    const owner = seen.metadata.annotations?.[CORDONED_BY] ?? null;
    const clearMark = { [CORDONED_BY]: null, [CORDONED_AT]: null };
    if (!isCordoned(seen)) {
      if (owner === opts.by && !(await patchIfUnchanged(api, seen, { annotations: clearMark }, opts.signal))) return undefined;
      return { node, changed: false, cordonedBy: null };
    }
    if (owner !== opts.by) {
      const whose = owner === null ? `outside Whistle (no ${CORDONED_BY} annotation)` : `by "${owner}"`;
      throw new NodeOperationRefused('cordoned-by-other', node, `refusing to uncordon ${node} as "${opts.by}": it was cordoned ${whose}, and Whistle uncordons only the nodes it cordoned itself`);
    }
    if (!(await patchIfUnchanged(api, seen, { annotations: clearMark, unschedulable: null }, opts.signal))) return undefined;
    return { node, changed: true, cordonedBy: null };
  });
}
