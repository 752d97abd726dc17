// The Kubernetes read model (core/kube.ts) over the tables the watchers fill (kube-writer.ts,
// store/migrations/030_kube.sql). An object's current state is its row with the highest
// resourceVersion, deleted objects left out; restarts within a window come from the pods' object
// history. A cluster that is not watched has no rows, so every answer is "no data" (observedAt null).
import type { ClusterStateReader, ClusterStateView, KubeEvent, KubeNodeState, KubePodState, KubeWorkloadState } from '../../core/kube.ts';
import type { Store } from '../../store/store.ts';
import { daemonSetState, deploymentState, nodeState, podState, REVISION_ANNOTATION, type DaemonSetObject, type DeploymentObject, type NodeObject, type PodObject } from './object-state.ts';

/** Latest version of every live object of one kind, as parsed JSON. */
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

export class KubeStateReader implements ClusterStateReader {
  // observedAt is asked by several detectors per tick; one read per five seconds is plenty.
  private readonly observed = new Map<string, { at: number; value: number | null }>();

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  forCluster(cluster: string): ClusterStateView {
    return {
      observedAt: () => this.observedAt(cluster),
      nodes: () => this.nodes(cluster),
      pods: (opts) => this.pods(cluster, opts),
      workloads: () => this.workloads(cluster),
      events: (opts) => this.events(cluster, opts),
    };
  }

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
    return (await latestObjects<NodeObject>(this.store, cluster, 'Node')).map(nodeState);
  }

  async pods(cluster: string, opts: { restartWindowMs: number }): Promise<KubePodState[]> {
    const [objs, baselines] = await Promise.all([
      latestObjects<PodObject>(this.store, cluster, 'Pod'),
      this.restartBaselines(cluster, this.now() - opts.restartWindowMs),
    ]);
    return objs.map((o) => podState(o, (container) => baselines.get(`${o.metadata.uid}\u0000${container}`)));
  }

  /**
   * restartCount per (pod uid, container) at `since`: from the newest version written before it
   * (looking back one day), else the lowest count seen since (a pod first seen inside the window).
   * A container with no version in that day has no entry.
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
    const [deployments, daemonsets] = await Promise.all([
      latestObjects<DeploymentObject>(this.store, cluster, 'Deployment'),
      latestObjects<DaemonSetObject>(this.store, cluster, 'DaemonSet'),
    ]);
    const since = await this.revisionsSince(cluster);
    return [...deployments.map((d) => deploymentState(d, since.get(`${d.metadata.uid}\u0000${d.metadata.annotations?.[REVISION_ANNOTATION] ?? ''}`))), ...daemonsets.map(daemonSetState)];
  }

  /** When each (Deployment uid, revision) was first written: the rollout's start, as watched. */
  private async revisionsSince(cluster: string): Promise<Map<string, number>> {
    const rows = await this.store.query<{ uid: string; rev: string; t: string }>(
      `SELECT uid, JSONExtractString(object, 'metadata', 'annotations', {key:String}) AS rev, toUnixTimestamp64Milli(min(ts)) AS t
         FROM kube_objects WHERE cluster = {cluster:String} AND kind = 'Deployment'
        GROUP BY uid, rev`,
      { cluster, key: REVISION_ANNOTATION },
    );
    return new Map(rows.map((r) => [`${r.uid}\u0000${r.rev}`, Number(r.t)]));
  }

  /** One row per Event (its latest version), newest first. */
  async events(cluster: string, opts: { sinceMs: number; limit?: number }): Promise<KubeEvent[]> {
    // 64-bit integers arrive as JSON strings.
    const rows = await this.store.query<Omit<KubeEvent, 'count' | 'lastTs'> & { count: number | string; lastTs: number | string }>(
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
      { cluster, since: opts.sinceMs, limit: opts.limit ?? 1000 },
    );
    return rows.map((r) => ({ ...r, count: Number(r.count), lastTs: Number(r.lastTs) }));
  }
}
