// etcd-member-replace decisions, without side effects: what an incident asks for, which member is
// really lost, which node takes its place, and the plan that is recorded, dry-run and ticketed.
import type { EtcdInfo, MemberSummary } from '../../bootstrap/etcd/cluster-view.ts';
import type { EtcdClusterConfig } from '../../bootstrap/etcd/config.ts';
import type { IncidentView } from '../../core/pipeline.ts';

export const ID = 'etcd-member-replace';
export const DETECTOR = 'etcd-quorum';

/** What an etcd-quorum incident reports: members lost with quorum held, quorum lost, or neither. */
export function quorumState(inc: IncidentView): 'degraded' | 'lost' | null {
  const state = String((inc.evidence as { state?: unknown }).state ?? inc.labels.state ?? '');
  return state === 'degraded' || state === 'lost' ? state : null;
}

/** Members unhealthy in both live views: one that is restarting or catching up is not lost. */
export function stillUnhealthy(first: EtcdInfo, again: EtcdInfo): MemberSummary[] {
  const before = new Set(first.members.filter((m) => !m.healthy).map((m) => m.id));
  return again.members.filter((m) => !m.healthy && before.has(m.id));
}

/**
 * Who may take the lost member's place, best first: its own node (after a reset) when
 * `preferSameNode`, then spare nodes, then any other configured node not holding a member.
 * Whether a candidate's agent will really run tasks is for the caller to find out.
 */
export function replacementCandidates(cluster: EtcdClusterConfig, info: EtcdInfo, lost: MemberSummary, preferSameNode: boolean): string[] {
  const holding = new Set(info.members.map((m) => m.node));
  const free = cluster.nodes.filter((n) => !holding.has(n.node));
  return [
    ...(preferSameNode && lost.node !== null ? [lost.node] : []),
    ...free.filter((n) => n.role === 'spare').map((n) => n.node),
    ...free.filter((n) => n.role !== 'spare').map((n) => n.node),
  ];
}

export interface Replacement {
  lost: MemberSummary;
  /** The configured node that held the lost member, if any. */
  lostNode: string | null;
  /** Who takes its place: `lostNode` (after a reset), another node, or null when none can. */
  replacement: string | null;
  /** The nodes that must be healthy voting members afterwards. */
  expected: string[];
  /** The steps, for the record, the dry run and the ticket. */
  plan: string;
}

export function replacementPlan(cluster: EtcdClusterConfig, info: EtcdInfo, lost: MemberSummary, replacement: string | null): Replacement {
  const lostNode = lost.node;
  const expected = [...info.members.filter((m) => m.id !== lost.id).map((m) => m.node ?? m.name), replacement ?? '?'];
  const plan = [
    `replace etcd member ${lost.name || lost.id} (${lost.peerURL}) of ${cluster.cluster}: ${lost.error ?? 'unhealthy'}`,
    `  1. etcd remove ${lostNode ?? lost.id} (through a healthy member)`,
    replacement === lostNode ? `  2. etcd reset ${lostNode} (stop, clean its data dir)` : `  2. use spare node ${replacement ?? '(none available)'}`,
    `  3. etcd join ${replacement ?? '?'} (learner, start, promote)`,
    `  4. verify ${expected.length} members healthy: ${expected.join(', ')}`,
  ].join('\n');
  return { lost, lostNode, replacement, expected, plan };
}

/** What a recorded replacement plan (the text `replacementPlan` writes) says: who was lost, who replaces it, who must be healthy after. */
export interface RecordedPlan {
  lostNode: string;
  replacement: string;
  sameNode: boolean;
  expected: string[];
}

/**
 * Reads back a plan `replacementPlan` wrote, for a restarted Whistle carrying the action on; null
 * when the text does not name both nodes (then the action cannot be resumed, only escalated).
 */
export function readPlan(text: string): RecordedPlan | null {
  const lostNode = /^ {2}1\. etcd remove (\S+) /m.exec(text)?.[1];
  const replacement = /^ {2}3\. etcd join (\S+) /m.exec(text)?.[1];
  const expected = /^ {2}4\. verify \d+ members healthy: (.*)$/m.exec(text)?.[1];
  if (!lostNode || !replacement || replacement === '?' || expected === undefined) return null;
  return { lostNode, replacement, sameNode: /^ {2}2\. etcd reset /m.test(text), expected: expected.split(', ').filter(Boolean) };
}
