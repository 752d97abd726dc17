// The upgrade plan, pure: from a cluster snapshot, the nodes' reported versions and the target
// release, the order (control-plane nodes first, one at a time; then workers in batches of
// `concurrency`), what each node gets, the disruption budgets and single-replica workloads the
// drains touch, and the reasons to refuse. `whistle upgrade plan` prints it, and a rollout follows
// the plan it was started with.
import type { Release } from './config.ts';
import { nodeChanges, type NodeVersions } from './releases.ts';
import type { ClusterSnapshot, LabelSelector, Resources, SnapPod } from './cluster-snapshot.ts';

export interface NodeStep {
  node: string;
  role: 'control-plane' | 'worker';
  changes: { component: string; from: string | null; to: string }[];
  /** Pods the drain moves (DaemonSet, mirror and completed pods stay). */
  evicts: number;
  pdbs: string[];
  singleReplica: string[];
}

export interface PlanRefusal {
  reason: 'unhealthy' | 'capacity' | 'no-versions' | 'etcd-unhealthy' | 'open-incidents';
  message: string;
}

export interface UpgradePlan {
  cluster: string;
  release: string;
  fromRelease: string | null;
  concurrency: number;
  /** Batches in order; the nodes of one batch are upgraded at the same time. */
  batches: NodeStep[][];
  /** Nodes already at every target version: nothing to do. */
  upToDate: string[];
  pdbs: { namespace: string; name: string; minAvailable: string | number | null; maxUnavailable: string | number | null; currentHealthy: number; desiredHealthy: number; disruptionsAllowed: number; nodes: string[]; note?: string }[];
  singleReplica: { kind: string; namespace: string; name: string; node: string }[];
  etcd: { checked: boolean; healthy: boolean | null; detail: string };
  refusals: PlanRefusal[];
}

export interface PlanInput {
  cluster: string;
  release: Release;
  fromRelease: string | null;
  concurrency: number;
  snapshot: ClusterSnapshot;
  versions: NodeVersions[];
  /** null: the cluster has no etcd Whistle manages. */
  etcd: { healthy: boolean; detail: string } | null;
  /** Active incidents on the cluster that are not an expected part of a rollout. */
  openIncidents: { id: string; detector: string; subject: string; severity: string }[];
}

export function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const ml = selector.matchLabels ?? {};
  const ex = selector.matchExpressions ?? [];
  if (Object.keys(ml).length === 0 && ex.length === 0) return false;
  if (!Object.entries(ml).every(([k, v]) => labels[k] === v)) return false;
  return ex.every((e) => {
    const has = e.key in labels;
    const v = labels[e.key];
    switch (e.operator) {
      case 'In':
        return has && (e.values ?? []).includes(v!);
      case 'NotIn':
        return !has || !(e.values ?? []).includes(v!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
}

const add = (a: Resources, b: Resources): Resources => ({ cpuMilli: a.cpuMilli + b.cpuMilli, memBytes: a.memBytes + b.memBytes, pods: a.pods + b.pods });
const ZERO: Resources = { cpuMilli: 0, memBytes: 0, pods: 0 };

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Whether the pods `batch` evicts fit in what the other schedulable, Ready nodes have left (requests against allocatable). */
function capacityProblem(batch: string[], input: PlanInput): string | null {
  const { nodes, pods } = input.snapshot;
  const inBatch = new Set(batch);
  const moving = pods.filter((p) => inBatch.has(p.node) && p.stays === null).reduce((acc, p) => add(acc, p.requests), ZERO);
  if (moving.pods === 0) return null;
  const used = new Map<string, Resources>();
  for (const p of pods) if (p.stays !== 'completed') used.set(p.node, add(used.get(p.node) ?? ZERO, p.requests));
  const free = nodes
    .filter((n) => !inBatch.has(n.name) && n.ready && !n.cordoned)
    .reduce((acc, n) => {
      const u = used.get(n.name) ?? ZERO;
      return add(acc, { cpuMilli: Math.max(0, n.allocatable.cpuMilli - u.cpuMilli), memBytes: Math.max(0, n.allocatable.memBytes - u.memBytes), pods: Math.max(0, n.allocatable.pods - u.pods) });
    }, ZERO);
  const short: string[] = [];
  if (moving.pods > free.pods) short.push(`${moving.pods} pods, room for ${free.pods}`);
  if (moving.cpuMilli > free.cpuMilli) short.push(`${moving.cpuMilli}m CPU requested, ${free.cpuMilli}m free`);
  if (moving.memBytes > free.memBytes) short.push(`${Math.ceil(moving.memBytes / 2 ** 20)} MiB requested, ${Math.floor(free.memBytes / 2 ** 20)} MiB free`);
  return short.length ? `draining ${batch.join(', ')} moves ${short.join('; ')} on the other schedulable Ready nodes` : null;
}

function podsOn(node: string, pods: SnapPod[]): SnapPod[] {
  return pods.filter((p) => p.node === node && p.stays === null);
}

export function buildPlan(input: PlanInput): UpgradePlan {
  const { snapshot, release } = input;
  const refusals: PlanRefusal[] = [];
  const versions = new Map(input.versions.map((v) => [v.node, v.components]));
  const notReady = snapshot.nodes.filter((n) => !n.ready).map((n) => n.name);
  if (notReady.length > 0) refusals.push({ reason: 'unhealthy', message: `node${notReady.length > 1 ? 's' : ''} not Ready: ${notReady.join(', ')}` });
  if (input.etcd && !input.etcd.healthy) refusals.push({ reason: 'etcd-unhealthy', message: `etcd is not healthy: ${input.etcd.detail}` });
  if (input.openIncidents.length > 0) {
    refusals.push({ reason: 'open-incidents', message: `${input.openIncidents.length} open incident(s) on ${input.cluster}: ${input.openIncidents.slice(0, 5).map((i) => `${i.id} (${i.detector} ${i.subject})`).join(', ')}` });
  }

  const workloadOf = (p: SnapPod) => (p.owner ? snapshot.workloads.find((w) => w.kind === p.owner!.kind && w.namespace === p.namespace && w.name === p.owner!.name) : undefined);
  const pdbsOf = (p: SnapPod) => snapshot.pdbs.filter((b) => b.namespace === p.namespace && selects(b.selector, p.labels));

  const steps: NodeStep[] = [];
  const upToDate: string[] = [];
  const noVersions: string[] = [];
  const sorted = [...snapshot.nodes].sort((a, b) => Number(b.controlPlane) - Number(a.controlPlane) || a.name.localeCompare(b.name));
  for (const n of sorted) {
    const reported = versions.get(n.name);
    if (!reported) {
      noVersions.push(n.name);
      continue;
    }
    const changes = nodeChanges(release, reported);
    if (changes.length > 0 && changes.every((c) => c.from === c.to)) {
      upToDate.push(n.name);
      continue;
    }
    const moving = podsOn(n.name, snapshot.pods);
    const singles = moving.filter((p) => workloadOf(p)?.replicas === 1 || p.owner === null);
    steps.push({
      node: n.name,
      role: n.controlPlane ? 'control-plane' : 'worker',
      changes: changes.filter((c) => c.from !== c.to),
      evicts: moving.length,
      pdbs: [...new Set(moving.flatMap((p) => pdbsOf(p).map((b) => `${b.namespace}/${b.name}`)))].sort(),
      singleReplica: [...new Set(singles.map((p) => { const w = workloadOf(p); return w ? `${w.kind} ${w.namespace}/${w.name}` : `Pod ${p.namespace}/${p.name}`; }))],
    });
  }
  if (noVersions.length > 0) {
    refusals.push({ reason: 'no-versions', message: `no component versions reported by the agent of ${noVersions.join(', ')} (agent.tasks.packages on those nodes; node_component_version)` });
  }
  for (const s of steps) {
    if (s.changes.length === 0) refusals.push({ reason: 'no-versions', message: `${s.node} reports none of the release's components (${Object.keys(release.components).join(', ')})` });
  }

  const controlPlanes = steps.filter((s) => s.role === 'control-plane').map((s) => [s]);
  const workers = chunk(steps.filter((s) => s.role === 'worker'), input.concurrency);
  const batches = [...controlPlanes, ...workers];
  for (const b of batches) {
    const problem = capacityProblem(b.map((s) => s.node), input);
    if (problem) refusals.push({ reason: 'capacity', message: problem });
  }

  const planned = new Set(steps.map((s) => s.node));
  const pdbs = snapshot.pdbs
    .map((b) => {
      const nodes = [...new Set(snapshot.pods.filter((p) => p.stays === null && planned.has(p.node) && p.namespace === b.namespace && selects(b.selector, p.labels)).map((p) => p.node))].sort();
      const note = b.disruptionsAllowed === 0 ? 'allows no disruption now: a drain of its pods waits (up to upgrades.drainTimeoutMs) for it to recover' : undefined;
      return { namespace: b.namespace, name: b.name, minAvailable: b.minAvailable, maxUnavailable: b.maxUnavailable, currentHealthy: b.currentHealthy, desiredHealthy: b.desiredHealthy, disruptionsAllowed: b.disruptionsAllowed, nodes, ...(note ? { note } : {}) };
    })
    .filter((b) => b.nodes.length > 0);
  const singleReplica = snapshot.pods
    .filter((p) => p.stays === null && planned.has(p.node) && workloadOf(p)?.replicas === 1)
    .map((p) => ({ kind: workloadOf(p)!.kind, namespace: p.namespace, name: workloadOf(p)!.name, node: p.node }));

  return {
    cluster: input.cluster,
    release: release.name,
    fromRelease: input.fromRelease,
    concurrency: input.concurrency,
    batches,
    upToDate,
    pdbs,
    singleReplica,
    etcd: input.etcd ? { checked: true, healthy: input.etcd.healthy, detail: input.etcd.detail } : { checked: false, healthy: null, detail: 'no etcd cluster of this cluster in etcd.clusters' },
    refusals,
  };
}

/** The plan as text, for the CLI and the escalation ticket. */
export function formatPlan(p: UpgradePlan): string {
  const lines = [`Upgrade ${p.cluster} from ${p.fromRelease ?? 'an unrecorded release'} to ${p.release} (workers ${p.concurrency} at a time)`];
  p.batches.forEach((b, i) => {
    for (const s of b) {
      lines.push(`  ${String(i + 1).padStart(2)}. ${s.node} (${s.role}): ${s.changes.map((c) => `${c.component} ${c.from ?? '?'} -> ${c.to}`).join(', ') || 'nothing'}; evicts ${s.evicts} pod(s)${s.pdbs.length ? `; PDBs ${s.pdbs.join(', ')}` : ''}${s.singleReplica.length ? `; single replica: ${s.singleReplica.join(', ')}` : ''}`);
    }
  });
  if (p.upToDate.length) lines.push(`  already at ${p.release}: ${p.upToDate.join(', ')}`);
  for (const b of p.pdbs) lines.push(`  PDB ${b.namespace}/${b.name}: ${b.currentHealthy}/${b.desiredHealthy} healthy, ${b.disruptionsAllowed} disruption(s) allowed, pods on ${b.nodes.join(', ')}${b.note ? ` (${b.note})` : ''}`);
  for (const w of p.singleReplica) lines.push(`  single replica: ${w.kind} ${w.namespace}/${w.name} on ${w.node} is down while it moves`);
  lines.push(`  etcd: ${p.etcd.checked ? (p.etcd.healthy ? 'healthy' : 'NOT healthy') : 'not managed'} (${p.etcd.detail})`);
  for (const r of p.refusals) lines.push(`  REFUSED (${r.reason}): ${r.message}`);
  return lines.join('\n');
}
