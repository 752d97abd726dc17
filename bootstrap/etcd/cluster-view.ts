// Reading an etcd cluster's state through the agents: ask every live node's member at once and take
// the first answer that has quorum. Used by `info`, by every operation's before/after, and to
// verify health after a change.
import { sleep } from '../../core/backoff.ts';
import type { TaskResult } from '../tasks/contract.ts';
import type { TaskQueue } from '../tasks/queue.ts';
import type { EtcdClusterConfig, EtcdNodeConfig } from './config.ts';
import { peerURL } from './topology.ts';

export interface MemberSummary {
  id: string;
  name: string;
  node: string | null;
  peerURL: string;
  clientURL: string;
  isLearner: boolean;
  started: boolean;
  healthy: boolean;
  up: boolean;
  isLeader: boolean;
  dbSize: number | null;
  raftIndex: number | null;
  version: string | null;
  error: string | null;
}

export interface EtcdInfo {
  cluster: string;
  quorum: boolean;
  leader: string | null;
  revision: number | null;
  /** The node whose member answered. */
  via: string | null;
  members: MemberSummary[];
  nodes: { node: string; address: string; role: string; agentAlive: boolean; member: string | null }[];
}

export function nodeForMember(c: EtcdClusterConfig, m: { peerURLs: string[] }): EtcdNodeConfig | undefined {
  return c.nodes.find((n) => m.peerURLs.includes(peerURL(c, n.address)));
}

function summarize(c: EtcdClusterConfig, view: TaskResult<'etcd.members'>, via: string, alive: (n: string) => boolean): EtcdInfo {
  const members = view.members.map((m): MemberSummary => ({
    id: m.id,
    name: m.name,
    node: nodeForMember(c, m)?.node ?? null,
    peerURL: m.peerURLs[0] ?? '',
    clientURL: m.clientURLs[0] ?? '',
    isLearner: m.isLearner,
    started: m.name !== '',
    healthy: m.healthy,
    up: Boolean(m.status?.ok),
    isLeader: Boolean(view.leaderId && m.id === view.leaderId),
    dbSize: m.status?.dbSize ?? null,
    raftIndex: m.status?.raftIndex ?? null,
    version: m.status?.version ?? null,
    error: m.status && !m.status.ok ? (m.status.error ?? 'down') : m.status ? null : 'not started',
  }));
  return {
    cluster: c.cluster,
    quorum: view.quorum,
    leader: members.find((m) => m.isLeader)?.name ?? null,
    revision: view.revision,
    via,
    members,
    nodes: c.nodes.map((n) => ({ node: n.node, address: n.address, role: n.role, agentAlive: alive(n.node), member: members.find((m) => m.node === n.node)?.id ?? null })),
  };
}

export class ClusterReader {
  constructor(
    private readonly queue: TaskQueue,
    private readonly agentGoneMs: number,
  ) {}

  agentAlive(c: EtcdClusterConfig, node: string, withinMs = this.agentGoneMs): boolean {
    return this.queue.agentAlive(c.cluster, node, withinMs);
  }

  /** The view through one named node; throws a clear error when it cannot answer. */
  async via(c: EtcdClusterConfig, node: string, timeoutMs = 6_000): Promise<EtcdInfo> {
    const r = await this.queue.run(c.cluster, node, 'etcd.members', { clientPort: c.clientPort }, timeoutMs);
    if (!r.ok) throw new Error(`cannot reach etcd through ${node}: ${r.error}`);
    return summarize(c, r.output, node, (n) => this.agentAlive(c, n));
  }

  /**
   * Asks every live node (except `exclude`) at once; resolves with the first view that has quorum,
   * else the best one that answered, else null.
   */
  async live(c: EtcdClusterConfig, exclude: string[] = [], timeoutMs = 6_000): Promise<EtcdInfo | null> {
    const candidates = c.nodes.filter((n) => !exclude.includes(n.node) && this.agentAlive(c, n.node));
    if (candidates.length === 0) return null;
    return new Promise((resolve) => {
      let left = candidates.length;
      let best: EtcdInfo | null = null;
      for (const n of candidates) {
        this.via(c, n.node, timeoutMs)
          .then((info) => {
            if (info.quorum) resolve(info);
            else if (!best || info.members.filter((m) => m.up).length > best.members.filter((m) => m.up).length) best = info;
          })
          .catch(() => undefined)
          .finally(() => {
            if (--left === 0) resolve(best);
          });
      }
    });
  }

  /** Polls until the members are exactly `nodes`, all voting and healthy, or the deadline passes. */
  async waitHealthy(c: EtcdClusterConfig, nodes: string[], timeoutMs: number): Promise<EtcdInfo> {
    const deadline = Date.now() + timeoutMs;
    let last: EtcdInfo | null = null;
    while (Date.now() < deadline) {
      last = await this.live(c, [], Math.min(4_000, Math.max(500, deadline - Date.now())));
      if (last && healthyAs(last, nodes)) return last;
      await sleep(200);
    }
    const why = !last
      ? 'no member answered'
      : last.members
          .filter((m) => !m.healthy || m.isLearner)
          .map((m) => `${m.name || m.peerURL}: ${m.isLearner ? 'still a learner' : (m.error ?? 'unhealthy')}`)
          .join('; ') || `members are ${last.members.map((m) => m.node ?? m.peerURL).join(',')}, expected ${nodes.join(',')}`;
    throw new Error(`cluster ${c.cluster} not healthy within ${timeoutMs} ms: ${why}`);
  }
}

export function healthyAs(info: EtcdInfo, nodes: string[]): boolean {
  if (!info.quorum || info.members.length !== nodes.length) return false;
  return info.members.every((m) => m.healthy && !m.isLearner && m.node !== null && nodes.includes(m.node));
}
