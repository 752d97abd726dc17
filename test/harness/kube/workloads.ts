// Workloads on the fake nodes for tests of node operations: a Deployment (optionally spread over
// hosts), a DaemonSet, a PodDisruptionBudget, and a poller that records the fewest Ready pods a
// workload had while something (a drain, an upgrade) ran. All run on kwok nodes: they select the
// fake-node label and tolerate kwok's taint, nothing else.
import type { KubeApi } from '../../../ingest/kube/api-client.ts';
import { FAKE_NODE_LABEL, fakePodToleration } from './cluster.ts';
import { waitUntil } from './processes.ts';

export interface PodView {
  name: string;
  uid: string;
  node: string;
  ready: boolean;
  terminating: boolean;
}

interface PodLike {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  spec?: { nodeName?: string };
  status?: { conditions?: { type: string; status: string }[] };
}

function podTemplate(labels: Record<string, string>, spread: boolean) {
  return {
    metadata: { labels },
    spec: {
      nodeSelector: FAKE_NODE_LABEL,
      tolerations: fakePodToleration(),
      automountServiceAccountToken: false,
      containers: [{ name: 'main', image: 'registry.example/fake:1' }],
      // ScheduleAnyway: a preference, so the pods can still share a node when it is the only one open.
      ...(spread ? { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } }] } : {}),
    },
  };
}

const selectorQuery = (labels: Record<string, string>) =>
  encodeURIComponent(
    Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  );

export async function createDeployment(api: KubeApi, ns: string, name: string, o: { replicas: number; spread?: boolean }): Promise<Record<string, string>> {
  const labels = { app: name };
  await api.json('POST', `/apis/apps/v1/namespaces/${ns}/deployments`, {
    metadata: { name, labels },
    spec: { replicas: o.replicas, selector: { matchLabels: labels }, template: podTemplate(labels, o.spread ?? false) },
  });
  return labels;
}

export async function createDaemonSet(api: KubeApi, ns: string, name: string): Promise<Record<string, string>> {
  const labels = { app: name };
  await api.json('POST', `/apis/apps/v1/namespaces/${ns}/daemonsets`, {
    metadata: { name, labels },
    spec: { selector: { matchLabels: labels }, template: podTemplate(labels, false) },
  });
  return labels;
}

export async function createPdb(api: KubeApi, ns: string, name: string, o: { minAvailable: number; selector: Record<string, string> }): Promise<void> {
  await api.json('POST', `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`, {
    metadata: { name },
    spec: { minAvailable: o.minAvailable, selector: { matchLabels: o.selector } },
  });
}

/** Waits until the disruption controller has counted the budget's pods (until then every eviction is refused as "still being processed"). */
export async function waitPdbObserved(api: KubeApi, ns: string, name: string, healthy: number): Promise<void> {
  await waitUntil(
    `PodDisruptionBudget ${ns}/${name} observed with ${healthy} healthy`,
    async () => {
      const p = await api.get<{ metadata: { generation: number }; status?: { observedGeneration?: number; currentHealthy?: number } }>(`/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${name}`);
      return p.status?.observedGeneration === p.metadata.generation && p.status.currentHealthy === healthy;
    },
    { timeoutMs: 60_000, intervalMs: 200 },
  );
}

export async function podsOf(api: KubeApi, ns: string, labels: Record<string, string>): Promise<PodView[]> {
  const list = await api.get<{ items: PodLike[] }>(`/api/v1/namespaces/${ns}/pods?labelSelector=${selectorQuery(labels)}`);
  return list.items.map((p) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    node: p.spec?.nodeName ?? '',
    ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    terminating: p.metadata.deletionTimestamp !== undefined,
  }));
}

/** Waits for `n` Ready pods of the workload (none terminating) and answers them. */
export async function waitReadyPods(api: KubeApi, ns: string, labels: Record<string, string>, n: number, timeoutMs = 120_000): Promise<PodView[]> {
  let pods: PodView[] = [];
  await waitUntil(
    `${n} Ready pods of ${ns}/${JSON.stringify(labels)}`,
    async () => {
      pods = await podsOf(api, ns, labels);
      return pods.length === n && pods.every((p) => p.ready && !p.terminating);
    },
    { timeoutMs, intervalMs: 250 },
  );
  return pods;
}

export interface ReadyWatch {
  /** Stops polling and answers the fewest Ready pods seen (terminating ones not counted), the Deployment's fewest readyReplicas, and the polls made. */
  stop(): Promise<{ minReadyPods: number; minReadyReplicas: number; polls: number }>;
}

/** Polls a Deployment's Ready pods and status.readyReplicas every `everyMs` until stopped. */
export function watchReady(api: KubeApi, ns: string, deployment: string, labels: Record<string, string>, everyMs = 100): ReadyWatch {
  let minReadyPods = Infinity;
  let minReadyReplicas = Infinity;
  let polls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const [pods, dep] = await Promise.all([
        podsOf(api, ns, labels),
        api.get<{ status?: { readyReplicas?: number } }>(`/apis/apps/v1/namespaces/${ns}/deployments/${deployment}`),
      ]);
      minReadyPods = Math.min(minReadyPods, pods.filter((p) => p.ready && !p.terminating).length);
      minReadyReplicas = Math.min(minReadyReplicas, dep.status?.readyReplicas ?? 0);
      polls++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { minReadyPods, minReadyReplicas, polls };
    },
  };
}
