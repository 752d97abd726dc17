// The nodes of a cluster as the cordon-drain remediator decides on them, read live from the
// cluster's API (not the watched copy): a cordon or a Ready condition set a second ago counts.
import { CORDONED_BY } from '../../bootstrap/nodes/index.ts';
import type { NodeObject } from '../../bootstrap/nodes/objects.ts';
import { isCordoned, isNodeReady } from '../../bootstrap/nodes/readiness.ts';
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import type { NodeHealth } from './logic.ts';

export interface ListedNode extends NodeHealth {
  name: string;
}

export async function listNodes(api: KubeApi, signal?: AbortSignal): Promise<ListedNode[]> {
  const list = await api.get<{ items: NodeObject[] }>('/api/v1/nodes', signal);
  return list.items.map((n) => {
    const cordoned = isCordoned(n);
    return { name: n.metadata.name, ready: isNodeReady(n), cordoned, cordonedBy: cordoned ? (n.metadata.annotations?.[CORDONED_BY] ?? null) : null };
  });
}
