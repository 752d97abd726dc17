// What the console reads from the samples table: when each node last reported, its latest disk,
// memory and load, etcd members' health, and a node's recent series for the charts. Every value is
// a bound parameter; every query is bounded in time so a page stays fast on a large table.
import type { Store } from '../store/store.ts';

export interface NodeMetrics {
  lastSample: number | null;
  /** The fullest filesystem's used share (0..1), and its mount. */
  disk: { ratio: number; mount: string } | null;
  memory: number | null;
  load1: number | null;
}

export interface EtcdMember {
  member: string;
  node: string;
  up: boolean;
  leader: boolean;
}

const key = (cluster: string, node: string) => `${cluster}\u0000${node}`;

export class ConsoleTelemetry {
  constructor(private readonly store: Store) {}

  /** Last sample per node over the last hour (older: not reporting, shown as such). */
  async lastSamples(cluster?: string): Promise<Map<string, number>> {
    const rows = await this.store.query<{ cluster: string; node: string; last: number }>(
      `SELECT cluster, node, toUnixTimestamp64Milli(max(ts)) AS last FROM samples
       WHERE ts > now64(3) - INTERVAL 1 HOUR AND ({cluster:String} = '' OR cluster = {cluster:String})
       GROUP BY cluster, node`,
      { cluster: cluster ?? '' },
    );
    return new Map(rows.map((r) => [key(r.cluster, r.node), Number(r.last)]));
  }

  lastOf(map: Map<string, number>, cluster: string, node: string): number | null {
    return map.get(key(cluster, node)) ?? null;
  }

  /** Latest disk, memory and load of every node of a cluster (last 15 minutes). */
  async nodeMetrics(cluster: string): Promise<Map<string, NodeMetrics>> {
    const rows = await this.store.query<{ node: string; name: string; mount: string; v: number; last: number }>(
      `SELECT node, name, labels['mount'] AS mount, argMax(value, ts) AS v, toUnixTimestamp64Milli(max(ts)) AS last FROM samples
       WHERE cluster = {cluster:String} AND ts > now64(3) - INTERVAL 15 MINUTE
         AND name IN ('node_filesystem_used_bytes', 'node_filesystem_size_bytes', 'node_memory_used_ratio', 'node_load1')
       GROUP BY node, name, mount`,
      { cluster },
    );
    const out = new Map<string, NodeMetrics>();
    const sizes = new Map<string, number>();
    for (const r of rows) if (r.name === 'node_filesystem_size_bytes') sizes.set(`${r.node}\u0000${r.mount}`, Number(r.v));
    for (const r of rows) {
      const m = out.get(r.node) ?? { lastSample: null, disk: null, memory: null, load1: null };
      m.lastSample = Math.max(m.lastSample ?? 0, Number(r.last));
      if (r.name === 'node_memory_used_ratio') m.memory = Number(r.v);
      if (r.name === 'node_load1') m.load1 = Number(r.v);
      if (r.name === 'node_filesystem_used_bytes') {
        const size = sizes.get(`${r.node}\u0000${r.mount}`);
        if (size && size > 0) {
          const ratio = Number(r.v) / size;
          if (!m.disk || ratio > m.disk.ratio) m.disk = { ratio, mount: r.mount };
        }
      }
      out.set(r.node, m);
    }
    return out;
  }

  /** Each etcd member's latest health as its agents report it (last 2 minutes), per cluster. */
  async etcdMembers(cluster?: string): Promise<Map<string, EtcdMember[]>> {
    const rows = await this.store.query<{ cluster: string; member: string; m_node: string; name: string; v: number }>(
      `SELECT cluster, labels['member'] AS member, argMax(node, ts) AS m_node, name, argMax(value, ts) AS v FROM samples
       WHERE ts > now64(3) - INTERVAL 2 MINUTE AND name IN ('etcd_member_up', 'etcd_member_is_leader')
         AND ({cluster:String} = '' OR cluster = {cluster:String})
       GROUP BY cluster, member, name`,
      { cluster: cluster ?? '' },
    );
    const by = new Map<string, Map<string, EtcdMember>>();
    for (const r of rows) {
      if (!r.member) continue;
      const members = by.get(r.cluster) ?? new Map<string, EtcdMember>();
      const m = members.get(r.member) ?? { member: r.member, node: r.m_node, up: false, leader: false };
      if (r.name === 'etcd_member_up') m.up = Number(r.v) > 0;
      else m.leader = Number(r.v) > 0;
      members.set(r.member, m);
      by.set(r.cluster, members);
    }
    return new Map([...by].map(([c, ms]) => [c, [...ms.values()].sort((a, b) => a.member.localeCompare(b.member))]));
  }

  /**
   * A node's disk (fullest filesystem, used share), memory (used share) and load over the last
   * `hours`, in about 240 buckets: [times (s)], [values] per series, as uPlot takes them.
   */
  async series(cluster: string, node: string, hours: number): Promise<{ t: number[]; disk: (number | null)[]; memory: (number | null)[]; load: (number | null)[] }> {
    const step = Math.max(10, Math.round((hours * 3600) / 240));
    const rows = await this.store.query<{ b: number; name: string; mount: string; v: number }>(
      `SELECT toUnixTimestamp(toStartOfInterval(ts, toIntervalSecond({step:UInt32}))) AS b, name, labels['mount'] AS mount, avg(value) AS v FROM samples
       WHERE cluster = {cluster:String} AND node = {node:String} AND ts > now64(3) - toIntervalHour({hours:UInt32})
         AND name IN ('node_filesystem_used_bytes', 'node_filesystem_size_bytes', 'node_memory_used_ratio', 'node_load1')
       GROUP BY b, name, mount ORDER BY b`,
      { cluster, node, hours, step },
    );
    type Bucket = { used: Map<string, number>; size: Map<string, number>; memory?: number; load?: number };
    const buckets = new Map<number, Bucket>();
    for (const r of rows) {
      const b = Number(r.b);
      const e: Bucket = buckets.get(b) ?? { used: new Map(), size: new Map() };
      if (r.name === 'node_filesystem_used_bytes') e.used.set(r.mount, Number(r.v));
      else if (r.name === 'node_filesystem_size_bytes') e.size.set(r.mount, Number(r.v));
      else if (r.name === 'node_memory_used_ratio') e.memory = Number(r.v);
      else e.load = Number(r.v);
      buckets.set(b, e);
    }
    const t: number[] = [];
    const disk: (number | null)[] = [];
    const memory: (number | null)[] = [];
    const load: (number | null)[] = [];
    for (const [b, e] of [...buckets].sort((x, y) => x[0] - y[0])) {
      let worst: number | null = null;
      for (const [mount, used] of e.used) {
        const size = e.size.get(mount);
        if (size && size > 0) worst = Math.max(worst ?? 0, used / size);
      }
      t.push(b);
      disk.push(worst === null ? null : round(worst * 100));
      memory.push(e.memory === undefined ? null : round(e.memory * 100));
      load.push(e.load === undefined ? null : round(e.load));
    }
    return { t, disk, memory, load };
  }
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
