// What a plan decides on, read live from one cluster's Kubernetes API: nodes with their
// allocatable capacity, pods with their requests and owners, disruption budgets with their status,
// and the replica counts of Deployments and StatefulSets. Only the fields read are typed.
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import { CORDONED_BY } from '../nodes/index.ts';
import { skipReason } from '../nodes/pod-plan.ts';
import type { PodObject } from '../nodes/objects.ts';
import { isControlPlane, isCordoned, isNodeReady } from '../nodes/readiness.ts';

export interface Resources {
  cpuMilli: number;
  memBytes: number;
  pods: number;
}

export interface SnapNode {
  name: string;
  ready: boolean;
  controlPlane: boolean;
  cordoned: boolean;
  cordonedBy: string | null;
  allocatable: Resources;
}

export interface SnapPod {
  namespace: string;
  name: string;
  node: string;
  labels: Record<string, string>;
  /** Left on the node by a drain (daemonset, mirror, completed, terminating, unmanaged), else null: it moves. */
  stays: string | null;
  requests: Resources;
  /** The workload that owns it: Deployment (through its ReplicaSet), StatefulSet, ReplicaSet, Job... */
  owner: { kind: string; name: string } | null;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface SnapPdb {
  namespace: string;
  name: string;
  selector: LabelSelector;
  minAvailable: string | number | null;
  maxUnavailable: string | number | null;
  currentHealthy: number;
  desiredHealthy: number;
  disruptionsAllowed: number;
  expectedPods: number;
}

export interface SnapWorkload {
  kind: 'Deployment' | 'StatefulSet';
  namespace: string;
  name: string;
  replicas: number;
}

export interface ClusterSnapshot {
  nodes: SnapNode[];
  pods: SnapPod[];
  pdbs: SnapPdb[];
  workloads: SnapWorkload[];
}

/** "250m", "2", "1.5" cores → millicores; "128Mi", "1G", "1e3" bytes; unknown → 0. */
export function quantity(q: string | undefined, cpu: boolean): number {
  if (!q) return 0;
  const m = /^([0-9.]+(?:e[0-9]+)?)([A-Za-z]*)$/.exec(q.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const suffix: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  const f = suffix[m[2] ?? ''];
  if (f === undefined) return 0;
  return cpu ? Math.round(n * f * 1000) : Math.round(n * f);
}

interface KubeNode {
  metadata: { name: string; uid: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[]; allocatable?: Record<string, string> };
}
interface KubePod extends PodObject {
  spec?: { nodeName?: string; containers?: { resources?: { requests?: Record<string, string> } }[] };
}
interface KubePdb {
  metadata: { namespace: string; name: string };
  spec?: { selector?: LabelSelector; minAvailable?: string | number; maxUnavailable?: string | number };
  status?: { currentHealthy?: number; desiredHealthy?: number; disruptionsAllowed?: number; expectedPods?: number };
}
interface KubeOwned {
  metadata: { namespace: string; name: string; ownerReferences?: { kind: string; name: string; controller?: boolean }[] };
  spec?: { replicas?: number };
}

const items = async <T>(api: KubeApi, path: string, signal?: AbortSignal) => (await api.get<{ items: T[] }>(path, signal)).items;

export async function readSnapshot(api: KubeApi, signal?: AbortSignal): Promise<ClusterSnapshot> {
  const [nodes, pods, pdbs, deployments, statefulsets, replicasets] = await Promise.all([
    items<KubeNode>(api, '/api/v1/nodes', signal),
    items<KubePod>(api, '/api/v1/pods', signal),
    items<KubePdb>(api, '/apis/policy/v1/poddisruptionbudgets', signal),
    items<KubeOwned>(api, '/apis/apps/v1/deployments', signal),
    items<KubeOwned>(api, '/apis/apps/v1/statefulsets', signal),
    items<KubeOwned>(api, '/apis/apps/v1/replicasets', signal),
  ]);
  const rsOwner = new Map(replicasets.map((rs) => [`${rs.metadata.namespace}/${rs.metadata.name}`, rs.metadata.ownerReferences?.find((o) => o.controller)]));
  return {
    nodes: nodes.map((n) => ({
      name: n.metadata.name,
      ready: isNodeReady(n as never),
      controlPlane: isControlPlane(n as never),
      cordoned: isCordoned(n as never),
      cordonedBy: n.metadata.annotations?.[CORDONED_BY] ?? null,
      allocatable: { cpuMilli: quantity(n.status?.allocatable?.cpu, true), memBytes: quantity(n.status?.allocatable?.memory, false), pods: Number(n.status?.allocatable?.pods ?? 110) },
    })),
    pods: pods
      .filter((p) => p.spec?.nodeName)
      .map((p) => {
        const controller = p.metadata.ownerReferences?.find((o) => o.controller);
        const viaRs = controller?.kind === 'ReplicaSet' ? rsOwner.get(`${p.metadata.namespace}/${controller.name}`) : undefined;
        const requests = (p.spec?.containers ?? []).reduce(
          (acc, c) => ({ cpuMilli: acc.cpuMilli + quantity(c.resources?.requests?.cpu, true), memBytes: acc.memBytes + quantity(c.resources?.requests?.memory, false), pods: 1 }),
          { cpuMilli: 0, memBytes: 0, pods: 1 },
        );
        return {
          namespace: p.metadata.namespace,
          name: p.metadata.name,
          node: p.spec?.nodeName ?? '',
          labels: p.metadata.labels ?? {},
          stays: skipReason(p),
          requests,
          owner: viaRs ? { kind: viaRs.kind, name: viaRs.name } : controller ? { kind: controller.kind, name: controller.name } : null,
        };
      }),
    pdbs: pdbs.map((b) => ({
      namespace: b.metadata.namespace,
      name: b.metadata.name,
      selector: b.spec?.selector ?? {},
      minAvailable: b.spec?.minAvailable ?? null,
      maxUnavailable: b.spec?.maxUnavailable ?? null,
      currentHealthy: b.status?.currentHealthy ?? 0,
      desiredHealthy: b.status?.desiredHealthy ?? 0,
      disruptionsAllowed: b.status?.disruptionsAllowed ?? 0,
      expectedPods: b.status?.expectedPods ?? 0,
    })),
    workloads: [
      ...deployments.map((d) => ({ kind: 'Deployment' as const, namespace: d.metadata.namespace, name: d.metadata.name, replicas: d.spec?.replicas ?? 1 })),
      ...statefulsets.map((s) => ({ kind: 'StatefulSet' as const, namespace: s.metadata.namespace, name: s.metadata.name, replicas: s.spec?.replicas ?? 1 })),
    ],
  };
}
