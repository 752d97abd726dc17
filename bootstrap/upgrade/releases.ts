// The stack releases (config `upgrades.releases`), the release each cluster runs (recorded when a
// rollout of it finishes, else `upgrades.clusterReleases`), and each node's component versions as
// its own agent last reported them (`node_component_version`, agent/METRICS.md).
import { NotFoundError } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import type { Release, UpgradesConfig } from './config.ts';
import { nextVersion } from './versions.ts';

export interface NodeVersions {
  node: string;
  /** component → version ('' when the agent could not read it). */
  components: Record<string, string>;
  /** When the newest of these samples was taken (epoch ms). */
  reportedAt: number;
}

export class ReleaseCatalog {
  private readonly recorded = new Map<string, { release: string; rolloutId: string; at: number }>();

  constructor(
    private readonly store: Store,
    private readonly cfg: UpgradesConfig,
  ) {}

  async load(): Promise<void> {
    const rows = await this.store.query<{ cluster: string; release: string; rollout_id: string; at: number }>(
      `SELECT cluster, argMax(release, version) AS release, argMax(rollout_id, version) AS rollout_id, toUnixTimestamp64Milli(argMax(updated_at, version)) AS at
       FROM upgrade_cluster_releases GROUP BY cluster`,
    );
    for (const r of rows) this.recorded.set(r.cluster, { release: r.release, rolloutId: r.rollout_id, at: Number(r.at) });
  }

  list(): Release[] {
    return this.cfg.releases;
  }

  /** The release named so; a NotFoundError naming `field` otherwise (the API's `release`, the CLI's `--to`). */
  get(name: string, field = 'release'): Release {
    const r = this.cfg.releases.find((x) => x.name === name);
    if (!r) throw new NotFoundError(`${field}: no release "${name}" (known: ${this.cfg.releases.map((x) => x.name).join(', ') || 'none configured in upgrades.releases'})`);
    return r;
  }

  /** The release the cluster runs: the last rollout that finished there, else the config's; null when neither says. */
  clusterRelease(cluster: string): string | null {
    return this.recorded.get(cluster)?.release ?? this.cfg.clusterReleases[cluster] ?? null;
  }

  clusterReleases(clusters: string[]): { cluster: string; release: string | null; rolloutId: string | null }[] {
    return clusters.map((c) => ({ cluster: c, release: this.clusterRelease(c), rolloutId: this.recorded.get(c)?.rolloutId ?? null }));
  }

  async recordClusterRelease(cluster: string, release: string, rolloutId: string): Promise<void> {
    const at = Date.now();
    await this.store.insert('upgrade_cluster_releases', [{ cluster, version: nextVersion(), release, rollout_id: rolloutId, updated_at: at }]);
    this.recorded.set(cluster, { release, rolloutId, at });
  }

  /** Each node's latest reported component versions, from samples taken at or after `since` (epoch ms). */
  async nodeVersions(cluster: string, since = 0, node?: string): Promise<NodeVersions[]> {
    const rows = await this.store.query<{ node: string; component: string; version: string; last_ts: number }>(
      `SELECT node, labels['component'] AS component, argMax(labels['version'], ts) AS version, toUnixTimestamp64Milli(max(ts)) AS last_ts
       FROM samples
       WHERE cluster = {cluster:String} AND name = 'node_component_version' AND ts >= fromUnixTimestamp64Milli({since:Int64})
         AND ({node:String} = '' OR node = {node:String})
       GROUP BY node, component ORDER BY node, component`,
      { cluster, since, node: node ?? '' },
    );
    const byNode = new Map<string, NodeVersions>();
    for (const r of rows) {
      const n = byNode.get(r.node) ?? { node: r.node, components: {}, reportedAt: 0 };
      n.components[r.component] = r.version;
      n.reportedAt = Math.max(n.reportedAt, Number(r.last_ts));
      byNode.set(r.node, n);
    }
    return [...byNode.values()];
  }
}

/** The components of `release` the node manages and the version each goes from and to. Components it does not report are not its to install. */
export function nodeChanges(release: Release, reported: Record<string, string> | undefined): { component: string; from: string | null; to: string }[] {
  return Object.entries(release.components)
    .filter(([c]) => reported !== undefined && c in reported)
    .map(([component, to]) => ({ component, from: reported?.[component] || null, to }));
}
