// Node readiness and roles, and the guard that keeps the control plane reachable: Whistle never
// cordons or drains the last Ready control-plane node, because the cluster (and Whistle's way back
// into it) depends on one being there.
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import { NodeOperationRefused } from './errors.ts';
import type { NodeObject } from './objects.ts';

export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
/** The label before Kubernetes 1.24; clusters upgraded from then may carry only this one. */
export const LEGACY_MASTER_LABEL = 'node-role.kubernetes.io/master';

export function isNodeReady(node: NodeObject): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

export function isControlPlane(node: NodeObject): boolean {
  const labels = node.metadata.labels ?? {};
  return CONTROL_PLANE_LABEL in labels || LEGACY_MASTER_LABEL in labels;
}

export function isCordoned(node: NodeObject): boolean {
  return node.spec?.unschedulable === true;
}

/**
 * The control-plane nodes other than `target` that still serve: Ready and not cordoned. A cordoned
 * one is counted out because it is on its way down (an upgrade, a drain) as much as `target` would be.
 */
export function servingControlPlanes(target: string, controlPlanes: NodeObject[]): string[] {
  return controlPlanes.filter((n) => n.metadata.name !== target && isNodeReady(n) && !isCordoned(n)).map((n) => n.metadata.name);
}

/** Refuses (NodeOperationRefused 'last-control-plane') when taking `node` out would leave no serving control-plane node. */
export async function assertNotLastControlPlane(api: KubeApi, node: NodeObject, what: 'cordon' | 'drain', signal?: AbortSignal): Promise<void> {
  if (!isControlPlane(node)) return;
  const lists = await Promise.all(
    [CONTROL_PLANE_LABEL, LEGACY_MASTER_LABEL].map((l) => api.get<{ items: NodeObject[] }>(`/api/v1/nodes?labelSelector=${encodeURIComponent(l)}`, signal)),
  );
  const byName = new Map(lists.flatMap((l) => l.items).map((n) => [n.metadata.name, n]));
  if (servingControlPlanes(node.metadata.name, [...byName.values()]).length > 0) return;
  const name = node.metadata.name;
  throw new NodeOperationRefused(
    'last-control-plane',
    name,
    `refusing to ${what} ${name}: it is a control-plane node and no other control-plane node is Ready and schedulable (${byName.size} control-plane node${byName.size === 1 ? '' : 's'} in the cluster)`,
  );
}
