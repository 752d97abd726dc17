// The current state of a watched cluster, as the detectors read it: the latest row per uid in
// kube_objects (highest resourceVersion; deleted objects left out), reduced to the fields the
// detectors decide on: node conditions, pod phases and container restarts with the last
// termination reason, deployment and daemonset availability.
import type { Store } from '../../store/store.ts';

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface NodeState {
  name: string;
  uid: string;
  /** The Ready condition: 'True', 'False' or 'Unknown' (the node controller's "kubelet stopped posting"). */
  ready: string;
  readyReason: string;
  unschedulable: boolean;
  conditions: Condition[];
  labels: Record<string, string>;
}

export interface ContainerState {
  name: string;
  ready: boolean;
  restartCount: number;
  state: 'running' | 'waiting' | 'terminated' | 'unknown';
  /** e.g. CrashLoopBackOff, ImagePullBackOff. */
  waitingReason: string;
  /** Why the previous run ended (e.g. Error, OOMKilled), from lastState.terminated. */
  lastTerminationReason: string;
  lastExitCode: number | null;
  lastFinishedAt: string;
}

export interface PodState {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  phase: string;
  ready: boolean;
  restarts: number;
  containers: ContainerState[];
  ownerKind: string;
  ownerName: string;
  labels: Record<string, string>;
}

export interface WorkloadState {
  kind: 'Deployment' | 'DaemonSet';
  namespace: string;
  name: string;
  uid: string;
  desired: number;
  ready: number;
  available: number;
  unavailable: number;
  updated: number;
  /** All desired replicas available (and the controller has seen the latest spec). */
  healthy: boolean;
  labels: Record<string, string>;
}

export interface ClusterState {
  cluster: string;
  nodes: NodeState[];
  pods: PodState[];
  deployments: WorkloadState[];
  daemonsets: WorkloadState[];
  readAt: number;
}

interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  labels?: Record<string, string>;
  generation?: number;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}

/** Latest object per uid of one kind, deleted ones left out, as parsed JSON. */
export async function latestObjects<T = unknown>(store: Store, cluster: string, kind: string, namespace?: string): Promise<T[]> {
  const rows = await store.query<{ object: string }>(
    `SELECT argMax(object, rv) AS object
       FROM kube_objects
      WHERE cluster = {cluster:String} AND kind = {kind:String}
        ${namespace !== undefined ? 'AND namespace = {namespace:String}' : ''}
      GROUP BY uid
     HAVING argMax(deleted, rv) = 0`,
    namespace !== undefined ? { cluster, kind, namespace } : { cluster, kind },
  );
  return rows.map((r) => JSON.parse(r.object) as T);
}

function conditions(list: unknown): Condition[] {
  if (!Array.isArray(list)) return [];
  return list.map((c: Record<string, unknown>) => ({
    type: String(c.type ?? ''),
    status: String(c.status ?? 'Unknown'),
    reason: String(c.reason ?? ''),
    message: String(c.message ?? ''),
    lastTransitionTime: String(c.lastTransitionTime ?? ''),
  }));
}

export function nodeState(o: { metadata: Meta; spec?: { unschedulable?: boolean }; status?: { conditions?: unknown } }): NodeState {
  const conds = conditions(o.status?.conditions);
  const ready = conds.find((c) => c.type === 'Ready');
  return {
    name: o.metadata.name,
    uid: o.metadata.uid,
    ready: ready?.status ?? 'Unknown',
    readyReason: ready?.reason ?? '',
    unschedulable: o.spec?.unschedulable ?? false,
    conditions: conds,
    labels: o.metadata.labels ?? {},
  };
}

interface RawContainerStatus {
  name: string;
  ready?: boolean;
  restartCount?: number;
  state?: { running?: unknown; waiting?: { reason?: string }; terminated?: { reason?: string } };
  lastState?: { terminated?: { reason?: string; exitCode?: number; finishedAt?: string } };
}

export function containerState(c: RawContainerStatus): ContainerState {
  const state = c.state?.running ? 'running' : c.state?.waiting ? 'waiting' : c.state?.terminated ? 'terminated' : 'unknown';
  const last = c.lastState?.terminated;
  return {
    name: c.name,
    ready: c.ready ?? false,
    restartCount: c.restartCount ?? 0,
    state,
    waitingReason: c.state?.waiting?.reason ?? '',
    lastTerminationReason: last?.reason ?? '',
    lastExitCode: last?.exitCode ?? null,
    lastFinishedAt: last?.finishedAt ?? '',
  };
}

export function podState(o: {
  metadata: Meta;
  spec?: { nodeName?: string };
  status?: { phase?: string; conditions?: unknown; containerStatuses?: RawContainerStatus[]; initContainerStatuses?: RawContainerStatus[] };
}): PodState {
  const containers = [...(o.status?.initContainerStatuses ?? []), ...(o.status?.containerStatuses ?? [])].map(containerState);
  const owner = o.metadata.ownerReferences?.find((r) => r.controller) ?? o.metadata.ownerReferences?.[0];
  return {
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    uid: o.metadata.uid,
    node: o.spec?.nodeName ?? '',
    phase: o.status?.phase ?? 'Unknown',
    ready: conditions(o.status?.conditions).some((c) => c.type === 'Ready' && c.status === 'True'),
    restarts: containers.reduce((n, c) => n + c.restartCount, 0),
    containers,
    ownerKind: owner?.kind ?? '',
    ownerName: owner?.name ?? '',
    labels: o.metadata.labels ?? {},
  };
}

export function deploymentState(o: {
  metadata: Meta;
  spec?: { replicas?: number };
  status?: { observedGeneration?: number; readyReplicas?: number; availableReplicas?: number; unavailableReplicas?: number; updatedReplicas?: number };
}): WorkloadState {
  const desired = o.spec?.replicas ?? 1;
  const s = o.status ?? {};
  const available = s.availableReplicas ?? 0;
  return {
    kind: 'Deployment',
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    uid: o.metadata.uid,
    desired,
    ready: s.readyReplicas ?? 0,
    available,
    unavailable: s.unavailableReplicas ?? Math.max(0, desired - available),
    updated: s.updatedReplicas ?? 0,
    healthy: available >= desired && (s.observedGeneration ?? 0) >= (o.metadata.generation ?? 0),
    labels: o.metadata.labels ?? {},
  };
}

export function daemonSetState(o: {
  metadata: Meta;
  status?: { desiredNumberScheduled?: number; numberReady?: number; numberAvailable?: number; numberUnavailable?: number; updatedNumberScheduled?: number; observedGeneration?: number };
}): WorkloadState {
  const s = o.status ?? {};
  const desired = s.desiredNumberScheduled ?? 0;
  const available = s.numberAvailable ?? 0;
  return {
    kind: 'DaemonSet',
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    uid: o.metadata.uid,
    desired,
    ready: s.numberReady ?? 0,
    available,
    unavailable: s.numberUnavailable ?? Math.max(0, desired - available),
    updated: s.updatedNumberScheduled ?? 0,
    healthy: available >= desired && (s.observedGeneration ?? 0) >= (o.metadata.generation ?? 0),
    labels: o.metadata.labels ?? {},
  };
}

export async function readClusterState(store: Store, cluster: string): Promise<ClusterState> {
  const [nodes, pods, deployments, daemonsets] = await Promise.all([
    latestObjects<Parameters<typeof nodeState>[0]>(store, cluster, 'Node'),
    latestObjects<Parameters<typeof podState>[0]>(store, cluster, 'Pod'),
    latestObjects<Parameters<typeof deploymentState>[0]>(store, cluster, 'Deployment'),
    latestObjects<Parameters<typeof daemonSetState>[0]>(store, cluster, 'DaemonSet'),
  ]);
  const byName = <T extends { namespace?: string; name: string }>(a: T, b: T) =>
    (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name);
  return {
    cluster,
    nodes: nodes.map(nodeState).sort(byName),
    pods: pods.map(podState).sort(byName),
    deployments: deployments.map(deploymentState).sort(byName),
    daemonsets: daemonsets.map(daemonSetState).sort(byName),
    readAt: Date.now(),
  };
}

/** Clusters that have any watched object. */
export async function kubeClusters(store: Store): Promise<string[]> {
  const rows = await store.query<{ cluster: string }>('SELECT DISTINCT cluster FROM kube_objects ORDER BY cluster');
  return rows.map((r) => r.cluster);
}

export interface KubeEvent {
  namespace: string;
  name: string;
  type: string;
  reason: string;
  message: string;
  involvedKind: string;
  involvedNamespace: string;
  involvedName: string;
  count: number;
  lastTs: number;
}

/** Events of a cluster last seen at or after `sinceMs`, newest first (one row per event, latest count). */
export async function recentKubeEvents(store: Store, cluster: string, sinceMs: number, limit = 1000): Promise<KubeEvent[]> {
  return store.query<KubeEvent>(
    `SELECT namespace, name,
            argMax(type, toUInt64OrZero(resource_version)) AS type,
            argMax(reason, toUInt64OrZero(resource_version)) AS reason,
            argMax(message, toUInt64OrZero(resource_version)) AS message,
            argMax(involved_kind, toUInt64OrZero(resource_version)) AS involvedKind,
            argMax(involved_namespace, toUInt64OrZero(resource_version)) AS involvedNamespace,
            argMax(involved_name, toUInt64OrZero(resource_version)) AS involvedName,
            max(count) AS count,
            toUnixTimestamp64Milli(max(last_ts)) AS lastTs
       FROM kube_events
      WHERE cluster = {cluster:String} AND last_ts >= fromUnixTimestamp64Milli({since:Int64})
      GROUP BY uid, namespace, name
      ORDER BY lastTs DESC
      LIMIT {limit:UInt32}`,
    { cluster, since: sinceMs, limit },
  );
}
