// ClusterStateReader over the kube tables the Kubernetes watchers fill (store/migrations/030_kube.sql),
// using the readers in ingest/kube/cluster-state.ts for the current objects. Restarts within a window
// come from the pods' object history: restartCount now minus restartCount at the window's start.
// A cluster that is not watched has no rows, so every answer is "no data" (observedAt null).
import {
  daemonSetState,
  deploymentState,
  latestObjects,
  nodeState,
  podState,
  type PodState,
} from '../ingest/kube/cluster-state.ts';
import type { Store } from '../store/store.ts';
import type { ClusterStateReader, ConditionStatus, KubeNodeState, KubePodState, KubeWorkloadState } from './cluster-state.ts';

const time = (iso: string): number | undefined => {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
};
const status = (s: string): ConditionStatus => (s === 'True' || s === 'False' ? s : 'Unknown');
const PHASES = new Set(['Pending', 'Running', 'Succeeded', 'Failed']);

/** A Deployment's pods are owned by a ReplicaSet named `<deployment>-<pod-template-hash>`. */
function workloadOf(p: PodState): KubePodState['workload'] {
  if (!p.ownerKind) return undefined;
  if (p.ownerKind === 'ReplicaSet') {
    const m = /^(.+)-[a-z0-9]{5,10}$/.exec(p.ownerName);
    if (m) return { kind: 'Deployment', name: m[1]! };
  }
  return { kind: p.ownerKind, name: p.ownerName };
}

export class KubeTablesClusterState implements ClusterStateReader {
  // observedAt is asked by several detectors per tick; one read per five seconds is plenty.
  private observed = new Map<string, { at: number; value: number | null }>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  async observedAt(cluster: string): Promise<number | null> {
    const hit = this.observed.get(cluster);
    if (hit && this.now() - hit.at < 5000) return hit.value;
    const rows = await this.store.query<{ t: string; n: string }>(
      'SELECT toUnixTimestamp64Milli(max(ts)) AS t, count() AS n FROM kube_objects WHERE cluster = {cluster:String}',
      { cluster },
    );
    const value = rows[0] && Number(rows[0].n) > 0 ? Number(rows[0].t) : null;
    this.observed.set(cluster, { at: this.now(), value });
    return value;
  }

  async nodes(cluster: string): Promise<KubeNodeState[]> {
    const objs = await latestObjects<Parameters<typeof nodeState>[0]>(this.store, cluster, 'Node');
    return objs.map(nodeState).map((n) => ({
      name: n.name,
      ready: status(n.ready),
      unschedulable: n.unschedulable,
      conditions: n.conditions.map((c) => ({
        type: c.type,
        status: status(c.status),
        reason: c.reason || undefined,
        message: c.message || undefined,
        lastTransitionTime: time(c.lastTransitionTime),
      })),
    }));
  }

  async pods(cluster: string, opts: { restartWindowMs: number }): Promise<KubePodState[]> {
    const [objs, baselines] = await Promise.all([
      latestObjects<Parameters<typeof podState>[0]>(this.store, cluster, 'Pod'),
      this.restartBaselines(cluster, this.now() - opts.restartWindowMs),
    ]);
    return objs.map(podState).map((p) => ({
      namespace: p.namespace,
      name: p.name,
      node: p.node,
      phase: (PHASES.has(p.phase) ? p.phase : 'Unknown') as KubePodState['phase'],
      workload: workloadOf(p),
      containers: p.containers.map((c) => {
        const base = baselines.get(`${p.uid}\u0000${c.name}`);
        return {
          name: c.name,
          ready: c.ready,
          restartCount: c.restartCount,
          // No version written since the window's start (and a day before): nothing changed, no restarts.
          restartsInWindow: base === undefined ? 0 : Math.max(0, c.restartCount - base),
          state: c.state,
          waitingReason: c.waitingReason || undefined,
          lastTermination:
            c.lastTerminationReason || c.lastExitCode !== null
              ? { reason: c.lastTerminationReason, exitCode: c.lastExitCode ?? 0, finishedAt: time(c.lastFinishedAt) }
              : undefined,
        };
      }),
    }));
  }

  /**
   * restartCount per (pod uid, container) at `since`: from the newest version written before it
   * (looking back one day), else the lowest count seen since (a pod first seen inside the window).
   */
  private async restartBaselines(cluster: string, since: number): Promise<Map<string, number>> {
    const rows = await this.store.query<{ uid: string; c: string; before: string; nb: string; min_in: string }>(
      `SELECT uid, c, argMaxIf(rc, rv, ts < fromUnixTimestamp64Milli({since:Int64})) AS before,
              countIf(ts < fromUnixTimestamp64Milli({since:Int64})) AS nb, minIf(rc, ts >= fromUnixTimestamp64Milli({since:Int64})) AS min_in
       FROM (
         SELECT uid, rv, ts, JSONExtractString(s, 'name') AS c, JSONExtractInt(s, 'restartCount') AS rc
         FROM kube_objects
         ARRAY JOIN arrayConcat(JSONExtractArrayRaw(object, 'status', 'initContainerStatuses'), JSONExtractArrayRaw(object, 'status', 'containerStatuses')) AS s
         WHERE cluster = {cluster:String} AND kind = 'Pod' AND ts >= fromUnixTimestamp64Milli({from:Int64})
       )
       GROUP BY uid, c`,
      { cluster, since, from: since - 86_400_000 },
    );
    const out = new Map<string, number>();
    for (const r of rows) out.set(`${r.uid}\u0000${r.c}`, Number(r.nb) > 0 ? Number(r.before) : Number(r.min_in));
    return out;
  }

  async workloads(cluster: string): Promise<KubeWorkloadState[]> {
    const [deps, dss] = await Promise.all([
      latestObjects<Parameters<typeof deploymentState>[0]>(this.store, cluster, 'Deployment'),
      latestObjects<Parameters<typeof daemonSetState>[0]>(this.store, cluster, 'DaemonSet'),
    ]);
    return [...deps.map(deploymentState), ...dss.map(daemonSetState)].map((w) => ({
      kind: w.kind,
      namespace: w.namespace,
      name: w.name,
      desired: w.desired,
      available: w.available,
      updated: w.updated,
    }));
  }
}
