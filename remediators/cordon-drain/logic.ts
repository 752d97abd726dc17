// cordon-drain decisions, without side effects: which node an incident is about (and whether
// draining it is the right fix), the mark Whistle leaves on the node, the plan that is recorded,
// dry-run and ticketed, how a drain's result reads, when a drain counts as done, and when the node
// is healthy enough to be uncordoned.
import type { DrainResult } from '../../bootstrap/nodes/index.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import type { IncidentState } from '../../core/types.ts';
import type { CordonDrainConfig } from './config.ts';

export const ID = 'cordon-drain';
export const KIND = 'kube.cordon-drain';
export const UNCORDON_KIND = 'kube.uncordon';
export const NODE_NOT_READY = 'node-not-ready';
export const KUBELET_DOWN = 'kubelet-down';
export const RESTART_STORM = 'pod-restart-storm';
export const DETECTORS = [NODE_NOT_READY, KUBELET_DOWN, RESTART_STORM] as const;

/** The cordon's owner as written to `whistle.io/cordoned-by`: Whistle uncordons only nodes carrying its own mark. */
const MARK_PREFIX = `${ID}/`;

export function cordonMark(incidentId: string): string {
  return `${MARK_PREFIX}${incidentId}`;
}

/** The incident a `whistle.io/cordoned-by` value names, when this remediator wrote it. */
export function incidentOfMark(by: string | null): string | null {
  return by?.startsWith(MARK_PREFIX) ? by.slice(MARK_PREFIX.length) || null : null;
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : null);

/**
 * The node to take out of service, or null when draining is not the fix: a node NotReady (pressure
 * alone is left to the kubelet's own eviction), a node whose kubelet is down (as a chain step after
 * the restart), a restart storm whose common factor is one node.
 */
export function drainTarget(inc: IncidentView): { node: string } | null {
  const ev = inc.evidence;
  if (inc.detector === NODE_NOT_READY) {
    const node = str(ev.node) ?? str(inc.labels.node);
    return node && ev.ready !== 'True' ? { node } : null;
  }
  if (inc.detector === KUBELET_DOWN) {
    const node = str(ev.node) ?? str(inc.labels.node) ?? str(inc.subject);
    return node ? { node } : null;
  }
  if (inc.detector === RESTART_STORM) {
    if (ev.scope !== undefined) return ev.scope === 'node' && (str(ev.node) ?? str(inc.labels.node)) ? { node: (str(ev.node) ?? str(inc.labels.node))! } : null;
    // Before the storm's evidence said its scope: a storm whose only shared dimension is one node.
    const shared = ev.shared as Record<string, unknown> | undefined;
    const keys = shared && typeof shared === 'object' ? Object.keys(shared) : [];
    return keys.length === 1 && keys[0] === 'node' && str(shared!.node) ? { node: str(shared!.node)! } : null;
  }
  return null;
}

export function drainPlan(node: string, inc: Pick<IncidentView, 'detector'>, cfg: Pick<CordonDrainConfig, 'drainTimeoutMs' | 'recoverTimeoutMs' | 'unmanagedPods'>): string {
  const why = inc.detector === NODE_NOT_READY ? 'it is NotReady' : inc.detector === KUBELET_DOWN ? 'its kubelet stays down' : 'its pods keep restarting there';
  const unmanaged = cfg.unmanagedPods === 'evict' ? ', unmanaged pods evicted too' : ', pods no controller owns left';
  return [
    `take ${node} out of service (${why})`,
    `  1. cordon ${node}, marked whistle.io/cordoned-by: ${ID}/<incident> (never the last Ready control-plane node)`,
    `  2. evict its pods through the Eviction API within ${Math.round(cfg.drainTimeoutMs / 1000)} s: disruption budgets respected (a 429 is waited on, never forced); DaemonSet and mirror pods skipped${unmanaged}`,
    `  3. verify: ${node} Ready again${inc.detector === NODE_NOT_READY ? '' : ' and the incident cleared by its detector'} within ${Math.round(cfg.recoverTimeoutMs / 1000)} s, then uncordon it (only Whistle's own cordon)`,
  ].join('\n');
}

/** Why a drain did not take the node's workloads off it, or null when it did. */
export function drainFailure(r: DrainResult): string | null {
  if (r.outcome === 'drained') return null;
  const blocked = r.blocked.map((b) => `${b.namespace}/${b.name} (${b.reason}${b.pdb ? ` ${b.pdb}` : ''}: ${b.message})`);
  return `drain of ${r.node} ${r.outcome} after ${Math.round(r.durationMs / 1000)} s with ${r.blocked.length} pod(s) still there${blocked.length ? `: ${blocked.slice(0, 5).join('; ')}${blocked.length > 5 ? '; ...' : ''}` : ''}`;
}

/** One line for the history and the ticket: what moved, what stayed and why. */
export function describeDrain(r: DrainResult): string {
  const cordon = r.cordon ? (r.cordon.changed ? 'cordoned' : `already cordoned${r.cordon.cordonedBy ? ` by ${r.cordon.cordonedBy}` : ' outside Whistle'}`) : 'not cordoned';
  const skipped = r.skipped.length ? `, left ${r.skipped.length} (${[...new Set(r.skipped.map((s) => s.reason))].join(', ')})` : '';
  const blocked = r.blocked.length ? `, ${r.blocked.length} still there (${[...new Set(r.blocked.map((b) => b.reason + (b.pdb ? ` ${b.pdb}` : '')))].join(', ')})` : '';
  return `  - ${r.node}: ${cordon}, ${r.outcome} in ${(r.durationMs / 1000).toFixed(1)} s: evicted ${r.evicted.length}${skipped}${blocked}`;
}

/** The summary kept as the action's after-record: names, not whole objects. */
export function drainRecord(r: DrainResult): Record<string, unknown> {
  return {
    outcome: r.outcome,
    durationMs: r.durationMs,
    cordon: r.cordon,
    evicted: r.evicted.map((p) => ({ pod: `${p.namespace}/${p.name}`, evictionCalls: p.evictionCalls, goneAfterMs: p.goneAfterMs })),
    skipped: r.skipped.map((p) => ({ pod: `${p.namespace}/${p.name}`, reason: p.reason })),
    blocked: r.blocked.map((p) => ({ pod: `${p.namespace}/${p.name}`, reason: p.reason, ...(p.pdb ? { pdb: p.pdb } : {}), message: p.message })),
  };
}

export interface NodeHealth {
  ready: boolean;
  cordoned: boolean;
  /** The node's `whistle.io/cordoned-by`, null without one. */
  cordonedBy: string | null;
}

/**
 * Healthy again: Ready, and for a kubelet or a restart storm also the incident resolved by its
 * detector (fresh telemetry saying the kubelet answers, the restarts stopped).
 */
export function healthyAgain(detector: string, node: Pick<NodeHealth, 'ready'>, incident: IncidentState | undefined): boolean {
  if (!node.ready) return false;
  return detector === NODE_NOT_READY || incident === 'resolved';
}

/**
 * A node Whistle cordoned for an incident that is over (resolved, or no longer known) and that is
 * Ready: its cordon is lifted by the reconciler. A node cordoned by anyone else never is.
 */
export function uncordonDue(node: NodeHealth, incident: IncidentState | undefined): string | null {
  const id = incidentOfMark(node.cordonedBy);
  if (!id || !node.cordoned || !node.ready) return null;
  return incident === undefined || incident === 'resolved' ? id : null;
}

/**
 * Nodes out of service if this one goes too, for the max-unhealthy gate: NotReady or cordoned, out
 * of every node the cluster lists. Draining more than that leaves too little room for the pods.
 */
export function outOfService(nodes: readonly { name: string; ready: boolean; cordoned: boolean }[], target: string): { unhealthy: number; total: number } {
  const out = new Set(nodes.filter((n) => !n.ready || n.cordoned).map((n) => n.name));
  out.add(target);
  return { unhealthy: out.size, total: Math.max(nodes.length, out.size) };
}
