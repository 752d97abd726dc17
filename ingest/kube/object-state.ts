// API objects as stored in kube_objects, reduced to the read model (core/kube.ts). Objects may lack
// any status (a just-created pod, a node that never reported): a missing Ready condition reads as
// 'Unknown', never as healthy.
import type {
  ConditionStatus,
  KubeCondition,
  KubeContainerState,
  KubeNodeState,
  KubePodState,
  KubeWorkloadRef,
  KubeWorkloadState,
} from '../../core/kube.ts';

interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  generation?: number;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}

export interface NodeObject {
  metadata: Meta;
  spec?: { unschedulable?: boolean };
  status?: { conditions?: unknown };
}

export interface ContainerStatus {
  name: string;
  image?: string;
  ready?: boolean;
  restartCount?: number;
  state?: { running?: unknown; waiting?: { reason?: string }; terminated?: { reason?: string } };
  lastState?: { terminated?: { reason?: string; exitCode?: number; finishedAt?: string } };
}

interface TemplateSpec {
  containers?: { name: string; image?: string }[];
  initContainers?: { name: string; image?: string }[];
}

export interface PodObject {
  metadata: Meta;
  spec?: { nodeName?: string } & TemplateSpec;
  status?: { phase?: string; conditions?: unknown; containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] };
}

/** The Deployment controller's revision counter, on the Deployment and on each of its ReplicaSets. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

export interface DeploymentObject {
  metadata: Meta & { annotations?: Record<string, string> };
  spec?: { replicas?: number; template?: { spec?: TemplateSpec } };
  status?: { readyReplicas?: number; availableReplicas?: number; updatedReplicas?: number };
}

export interface DaemonSetObject {
  metadata: Meta;
  spec?: { template?: { spec?: TemplateSpec } };
  status?: { desiredNumberScheduled?: number; numberReady?: number; numberAvailable?: number; updatedNumberScheduled?: number };
}

const time = (iso: string | undefined): number | undefined => {
  const t = Date.parse(iso ?? '');
  return Number.isFinite(t) ? t : undefined;
};
const conditionStatus = (s: string): ConditionStatus => (s === 'True' || s === 'False' ? s : 'Unknown');
const PHASES = new Set(['Pending', 'Running', 'Succeeded', 'Failed']);

function conditions(list: unknown): KubeCondition[] {
  if (!Array.isArray(list)) return [];
  return list.map((c: Record<string, unknown>) => ({
    type: String(c.type ?? ''),
    status: conditionStatus(String(c.status ?? 'Unknown')),
    reason: String(c.reason ?? '') || undefined,
    message: String(c.message ?? '') || undefined,
    lastTransitionTime: time(String(c.lastTransitionTime ?? '')),
  }));
}

export function nodeState(o: NodeObject): KubeNodeState {
  const conds = conditions(o.status?.conditions);
  return {
    name: o.metadata.name,
    ready: conds.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
    unschedulable: o.spec?.unschedulable ?? false,
    conditions: conds,
  };
}

/** `baseline`: restartCount at the window's start; undefined when no version was written since (nothing changed). */
export function containerState(c: ContainerStatus, baseline: number | undefined, specImage?: string): KubeContainerState {
  const state = c.state?.running ? 'running' : c.state?.waiting ? 'waiting' : c.state?.terminated ? 'terminated' : 'unknown';
  const last = c.lastState?.terminated;
  const exitCode = last?.exitCode ?? null;
  const restartCount = c.restartCount ?? 0;
  return {
    name: c.name,
    ready: c.ready ?? false,
    restartCount,
    restartsInWindow: baseline === undefined ? 0 : Math.max(0, restartCount - baseline),
    state,
    waitingReason: c.state?.waiting?.reason || undefined,
    lastTermination: last?.reason || exitCode !== null ? { reason: last?.reason ?? '', exitCode: exitCode ?? 0, finishedAt: time(last?.finishedAt) } : undefined,
    image: specImage ?? c.image,
  };
}

/** A Deployment's pods are owned by a ReplicaSet named `<deployment>-<pod-template-hash>`. */
function workloadOf(meta: Meta): KubeWorkloadRef | undefined {
  const owner = meta.ownerReferences?.find((r) => r.controller) ?? meta.ownerReferences?.[0];
  if (!owner?.kind) return undefined;
  if (owner.kind === 'ReplicaSet') {
    const m = /^(.+)-[a-z0-9]{5,10}$/.exec(owner.name);
    if (m) return { kind: 'Deployment', name: m[1]! };
  }
  return { kind: owner.kind, name: owner.name };
}

/** `baseline(container)`: that container's restartCount at the restart window's start (see containerState). */
export function podState(o: PodObject, baseline: (container: string) => number | undefined): KubePodState {
  const statuses = [...(o.status?.initContainerStatuses ?? []), ...(o.status?.containerStatuses ?? [])];
  const phase = o.status?.phase ?? 'Unknown';
  const specImages = new Map([...(o.spec?.initContainers ?? []), ...(o.spec?.containers ?? [])].filter((c) => c.image).map((c) => [c.name, c.image!]));
  return {
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    node: o.spec?.nodeName ?? '',
    phase: (PHASES.has(phase) ? phase : 'Unknown') as KubePodState['phase'],
    ready: conditions(o.status?.conditions).some((c) => c.type === 'Ready' && c.status === 'True'),
    workload: workloadOf(o.metadata),
    containers: statuses.map((c) => containerState(c, baseline(c.name), specImages.get(c.name))),
  };
}

/** The template's images, when the object carries its template. */
const images = (t: TemplateSpec | undefined): { images?: string[] } => (t?.containers ? { images: t.containers.map((c) => c.image ?? '') } : {});

/** `revisionSince`: when the current revision was first seen (state-reader.ts reads it from the history). */
export function deploymentState(o: DeploymentObject, revisionSince?: number): KubeWorkloadState {
  const s = o.status ?? {};
  const revision = Number(o.metadata.annotations?.[REVISION_ANNOTATION] ?? NaN);
  return {
    kind: 'Deployment',
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    desired: o.spec?.replicas ?? 1,
    ready: s.readyReplicas ?? 0,
    available: s.availableReplicas ?? 0,
    updated: s.updatedReplicas ?? 0,
    ...images(o.spec?.template?.spec),
    ...(Number.isInteger(revision) ? { revision } : {}),
    ...(revisionSince !== undefined ? { revisionSince } : {}),
  };
}

export function daemonSetState(o: DaemonSetObject): KubeWorkloadState {
  const s = o.status ?? {};
  return {
    kind: 'DaemonSet',
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    desired: s.desiredNumberScheduled ?? 0,
    ready: s.numberReady ?? 0,
    available: s.numberAvailable ?? 0,
    updated: s.updatedNumberScheduled ?? 0,
    ...images(o.spec?.template?.spec),
  };
}
