// Records the etcd clusters' desired state (`etcd.clusters[]`: member count and nodes) in the
// `etcd_clusters` table at start, so what judges the reported state (the etcd-quorum detector,
// dashboards) reads the count the config asks for. A cluster no longer configured gets members 0:
// nothing is expected of it any more.
import type { Component } from '../../core/component.ts';
import type { Store } from '../../store/store.ts';
import type { EtcdConfig } from './config.ts';

export class DesiredStateRecorder implements Component {
  readonly name = 'etcd-desired-state';

  constructor(
    private readonly store: Store,
    private readonly cfg: EtcdConfig,
  ) {}

  async start(): Promise<void> {
    // Legacy servers hold the reduced schema only (no etcd tables), and no detector reads there.
    if (this.store.dialect !== 'modern') return;
    const ts = Date.now();
    const configured = new Set(this.cfg.clusters.map((c) => c.cluster));
    const known = await this.store.query<{ cluster: string }>('SELECT cluster FROM etcd_clusters GROUP BY cluster HAVING argMax(members, ts) > 0');
    const rows = [
      ...this.cfg.clusters.map((c) => ({ ts, cluster: c.cluster, members: c.members, nodes: JSON.stringify(c.nodes) })),
      ...known.filter((k) => !configured.has(k.cluster)).map((k) => ({ ts, cluster: k.cluster, members: 0, nodes: '[]' })),
    ];
    if (rows.length > 0) await this.store.insert('etcd_clusters', rows);
  }

  async stop(): Promise<void> {}
}
