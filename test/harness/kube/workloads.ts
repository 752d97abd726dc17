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
export async function waitPdbObserved(api: KubeApi, ns: string, name: string, healthy: number, o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  let last = 'nothing read yet';
  await waitUntil(
    `PodDisruptionBudget ${ns}/${name} observed with ${healthy} healthy`,
    async (signal) => {
      const p = await api.get<{ metadata: { generation: number }; status?: { observedGeneration?: number; currentHealthy?: number; disruptionsAllowed?: number } }>(
        `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${name}`,
        signal,
      );
      last = `generation ${p.metadata.generation}, observedGeneration ${p.status?.observedGeneration ?? '-'}, currentHealthy ${p.status?.currentHealthy ?? '-'}, disruptionsAllowed ${p.status?.disruptionsAllowed ?? '-'}`;
      return p.status?.observedGeneration === p.metadata.generation && p.status.currentHealthy === healthy;
    },
    { timeoutMs: o.timeoutMs ?? 30_000, intervalMs: 200, signal: o.signal, state: () => last },
  );
}

export async function podsOf(api: KubeApi, ns: string, labels: Record<string, string>, signal?: AbortSignal): Promise<PodView[]> {
  const list = await api.get<{ items: PodLike[] }>(`/api/v1/namespaces/${ns}/pods?labelSelector=${selectorQuery(labels)}`, signal);
  return list.items.map((p) => ({
    name: p.metadata.name,
    uid: p.metadata.uid,
    node: p.spec?.nodeName ?? '',
    ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    terminating: p.metadata.deletionTimestamp !== undefined,
  }));
}

const describePods = (pods: PodView[]) =>
  pods.length === 0 ? 'no pods' : pods.map((p) => `${p.name}@${p.node || '(unscheduled)'}${p.ready ? ' Ready' : ' not Ready'}${p.terminating ? ' terminating' : ''}`).join(', ');

/** Waits for `n` Ready pods of the workload (none terminating) and answers them. */
export async function waitReadyPods(api: KubeApi, ns: string, labels: Record<string, string>, n: number, o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<PodView[]> {
  let pods: PodView[] = [];
  let read = false;
  await waitUntil(
    `${n} Ready pods of ${ns}/${JSON.stringify(labels)}`,
    async (signal) => {
      pods = await podsOf(api, ns, labels, signal);
      read = true;
      return pods.length === n && pods.every((p) => p.ready && !p.terminating);
    },
    { timeoutMs: o.timeoutMs ?? 60_000, intervalMs: 250, signal: o.signal, state: () => (read ? describePods(pods) : 'nothing read yet') },
  );
  return pods;
}

/**
 * Deletes a Deployment (its ReplicaSets and pods with it) or a DaemonSet and waits until none of its
 * pods is listed any more, so that the next test starts on nodes without them. Already gone is fine.
 */
export async function deleteWorkload(api: KubeApi, ns: string, kind: 'deployments' | 'daemonsets', name: string, labels: Record<string, string>, o: { timeoutMs?: number } = {}): Promise<void> {
  const res = await api.send('DELETE', `/apis/apps/v1/namespaces/${ns}/${kind}/${name}`, { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background' });
  if (!res.ok && res.status !== 404) throw new Error(`delete ${kind} ${ns}/${name}: ${res.status} ${res.error.message}`);
  await waitPodsGone(api, ns, labels, o);
}

/** Deletes pods by name at once (grace period 0); already gone is fine. */
export async function deletePods(api: KubeApi, ns: string, names: string[]): Promise<void> {
  for (const name of names) {
    const res = await api.send('DELETE', `/api/v1/namespaces/${ns}/pods/${name}`, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 });
    if (!res.ok && res.status !== 404) throw new Error(`delete pod ${ns}/${name}: ${res.status} ${res.error.message}`);
  }
}

export async function deletePdb(api: KubeApi, ns: string, name: string): Promise<void> {
  const res = await api.send('DELETE', `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/${name}`);
  if (!res.ok && res.status !== 404) throw new Error(`delete PodDisruptionBudget ${ns}/${name}: ${res.status} ${res.error.message}`);
}

export async function waitPodsGone(api: KubeApi, ns: string, labels: Record<string, string>, o: { timeoutMs?: number } = {}): Promise<void> {
  let pods: PodView[] = [];
  await waitUntil(
    `no pods of ${ns}/${JSON.stringify(labels)} listed`,
    async (signal) => {
      pods = await podsOf(api, ns, labels, signal);
      return pods.length === 0;
    },
    { timeoutMs: o.timeoutMs ?? 60_000, intervalMs: 250, state: () => describePods(pods) },
  );
}

export interface ReadySeen {
  minReadyPods: number;
  minReadyReplicas: number;
  polls: number;
  /** Polls that failed (a busy API server); the minimums are over the others. */
  failedPolls: number;
  lastError?: string;
}

export interface ReadyWatch {
  /**
   * Stops polling (a request in flight is aborted) and answers, once the loop has ended, the fewest
   * Ready pods seen (terminating ones not counted), the Deployment's fewest readyReplicas, and the
   * polls made. Idempotent: a test's finally may call it again after the test body did.
   */
  stop(): Promise<ReadySeen>;
}

/**
 * Polls a Deployment's Ready pods and status.readyReplicas every `everyMs` until stopped (or until
 * `signal`, a test's, aborts). The loop never rejects: a failed poll is counted, not thrown, so a
 * watch outliving its API server cannot leave an unhandled rejection behind.
 */
export function watchReady(api: KubeApi, ns: string, deployment: string, labels: Record<string, string>, o: { everyMs?: number; signal?: AbortSignal } = {}): ReadyWatch {
  const everyMs = o.everyMs ?? 200;
  const seen: ReadySeen = { minReadyPods: Infinity, minReadyReplicas: Infinity, polls: 0, failedPolls: 0 };
  const halt = new AbortController();
  const onAbort = () => halt.abort(o.signal?.reason);
  if (o.signal?.aborted) onAbort();
  else o.signal?.addEventListener('abort', onAbort, { once: true });
  const loop = (async () => {
    while (!halt.signal.aborted) {
      try {
        const [pods, dep] = await Promise.all([
          podsOf(api, ns, labels, halt.signal),
          api.get<{ status?: { readyReplicas?: number } }>(`/apis/apps/v1/namespaces/${ns}/deployments/${deployment}`, halt.signal),
        ]);
        seen.minReadyPods = Math.min(seen.minReadyPods, pods.filter((p) => p.ready && !p.terminating).length);
        seen.minReadyReplicas = Math.min(seen.minReadyReplicas, dep.status?.readyReplicas ?? 0);
        seen.polls++;
      } catch (err) {
        if (halt.signal.aborted) break;
        seen.failedPolls++;
        seen.lastError = (err as Error).message;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          halt.signal.removeEventListener('abort', done);
          resolve();
        };
        const t = setTimeout(done, everyMs);
        halt.signal.addEventListener('abort', done, { once: true });
      });
    }
  })();
  return {
    async stop() {
      halt.abort(new Error(`watch of ${ns}/${deployment} stopped`));
      o.signal?.removeEventListener('abort', onAbort);
      await loop;
      return { ...seen };
    },
  };
}
