// pod-restart-storm from rows: pods with their containers' restarts within the window. Single
// crash-looping pods get a finding each; when many pods restart together, one storm finding names
// what they share (node, namespace, workload) and their last termination reasons instead.
import type { Finding } from '../../../core/types.ts';
import { humanDuration, makeFinding } from '../../api.ts';
import type { KubePodState, KubeWorkloadState } from '../../../core/kube.ts';
import type { PodRestartStormConfig } from './config.ts';

export const ID = 'pod-restart-storm';

function restarts(p: KubePodState): number {
  return p.containers.reduce((n, c) => n + c.restartsInWindow, 0);
}

function terminationReasons(pods: readonly KubePodState[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pods) {
    for (const c of p.containers) {
      if (c.restartsInWindow === 0 || !c.lastTermination) continue;
      const t = c.lastTermination;
      const k = t.reason && t.reason !== 'Error' ? `${t.reason} (exit ${t.exitCode})` : `exit code ${t.exitCode}`;
      out[k] = (out[k] ?? 0) + 1;
    }
  }
  return out;
}

function ranked(counts: Record<string, number>): { value: string; pods: number }[] {
  return Object.entries(counts)
    .map(([value, pods]) => ({ value, pods }))
    .sort((a, b) => b.pods - a.pods || a.value.localeCompare(b.value));
}

function countBy(pods: readonly KubePodState[], key: (p: KubePodState) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pods) {
    const k = key(p);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

const workloadOf = (p: KubePodState) => (p.workload ? `${p.namespace}/${p.workload.kind}/${p.workload.name}` : `${p.namespace}/Pod/${p.name}`);

/** What a storm's pods have in common, when one thing explains it (the README's `scope`). */
export type StormScope = { scope: 'node'; node: string } | { scope: 'workload'; workload: { namespace: string; kind: string; name: string } } | { scope: null };

/**
 * One node (every restarting pod on it, of several workloads: the node is broken, cordon and drain
 * it) or one workload (every restarting pod of it, on several nodes: most likely a bad rollout).
 * When both are one, the pods beside them decide: other workloads' pods on that node running fine
 * put it on the workload; the workload's pods elsewhere running fine put it on the node; neither
 * seen, the workload (which asks a person before anything is done).
 */
export function stormScope(restarting: readonly KubePodState[], all: readonly KubePodState[], restartsOf: (p: KubePodState) => number): StormScope {
  const nodes = new Set(restarting.map((p) => p.node));
  const workloads = new Set(restarting.map(workloadOf));
  const node = nodes.size === 1 ? [...nodes][0]! : '';
  const one = restarting[0];
  const workload = workloads.size === 1 && one?.workload ? { namespace: one.namespace, kind: one.workload.kind, name: one.workload.name } : null;
  const nodeScope = (): StormScope => ({ scope: 'node', node });
  const workloadScope = (): StormScope => ({ scope: 'workload', workload: workload! });
  if (node && !workload && workloads.size > 1) return nodeScope();
  if (workload && !node) return workloadScope();
  if (!node || !workload) return { scope: null };
  const key = workloadOf(one!);
  const calm = all.filter((p) => restartsOf(p) === 0 && p.phase === 'Running');
  if (calm.some((p) => p.node === node && workloadOf(p) !== key)) return workloadScope();
  if (calm.some((p) => p.node !== node && workloadOf(p) === key)) return nodeScope();
  return workloadScope();
}

/** For a one-workload storm: its pods' images and exit codes, and its last rollout as watched. */
function workloadEvidence(scope: StormScope, restarting: readonly KubePodState[], workloads: readonly KubeWorkloadState[]): Record<string, unknown> {
  if (scope.scope !== 'workload') return {};
  const w = workloads.find((x) => x.kind === scope.workload.kind && x.namespace === scope.workload.namespace && x.name === scope.workload.name);
  const images: Record<string, number> = {};
  const exitCodes: Record<string, number> = {};
  for (const p of restarting) {
    for (const c of p.containers) {
      if (c.restartsInWindow === 0) continue;
      if (c.image) images[c.image] = (images[c.image] ?? 0) + 1;
      if (c.lastTermination) exitCodes[String(c.lastTermination.exitCode)] = (exitCodes[String(c.lastTermination.exitCode)] ?? 0) + 1;
    }
  }
  return {
    images: ranked(images),
    exitCodes: ranked(exitCodes).map((e) => ({ exitCode: Number(e.value), pods: e.pods })),
    rollout: w
      ? { revision: w.revision ?? null, since: w.revisionSince !== undefined ? new Date(w.revisionSince).toISOString() : null, images: w.images ?? [], desired: w.desired, available: w.available, updated: w.updated }
      : null,
  };
}

function scopeText(scope: StormScope, evidence: Record<string, unknown>): string {
  if (scope.scope === 'node') return `; common factor: node ${scope.node}`;
  if (scope.scope !== 'workload') return '';
  const w = scope.workload;
  const r = evidence.rollout as { revision: number | null; since: string | null } | null;
  const rollout = r?.revision != null ? ` (revision ${r.revision}${r.since ? ` since ${r.since}` : ''})` : '';
  return `; common factor: workload ${w.namespace}/${w.kind}/${w.name}${rollout}`;
}

export function podRestartFindings(cluster: string, now: number, pods: readonly KubePodState[], cfg: PodRestartStormConfig, workloads: readonly KubeWorkloadState[] = []): Finding[] {
  const window = humanDuration(cfg.windowMs);
  const restarting = pods.filter((p) => restarts(p) >= cfg.stormPodRestarts);
  if (restarting.length >= cfg.stormMinPods) {
    const dims = { node: countBy(restarting, (p) => p.node || '(unscheduled)'), namespace: countBy(restarting, (p) => p.namespace), workload: countBy(restarting, workloadOf) };
    const shared: Record<string, string> = {};
    const top: Record<string, { value: string; pods: number }[]> = {};
    for (const [dim, counts] of Object.entries(dims)) {
      const r = ranked(counts);
      if (r.length === 1) shared[dim] = r[0]!.value;
      top[dim] = r.slice(0, 5);
    }
    const reasons = ranked(terminationReasons(restarting));
    const total = restarting.reduce((n, p) => n + restarts(p), 0);
    const sharedText = Object.entries(shared)
      .map(([d, v]) => `${d} ${v}`)
      .join(', ');
    const reasonText = reasons
      .slice(0, 3)
      .map((r) => `${r.value} ×${r.pods}`)
      .join(', ');
    const scope = stormScope(restarting, pods, restarts);
    const about = workloadEvidence(scope, restarting, workloads);
    return [
      makeFinding(ID, cluster, now, {
        subject: 'storm',
        severity: 'critical',
        summary: `restart storm: ${restarting.length} pods restarted ${total} times in ${window}${sharedText ? `, all on ${sharedText}` : ''}${reasonText ? `; last terminations: ${reasonText}` : ''}${scopeText(scope, about)}`,
        labels: { ...shared },
        // scope first: the ticket shows the first entries. `scope`, `node` and `workload` are read
        // by remediators (cordon-and-drain for a node, rollout-rollback for a workload): keep them stable.
        evidence: {
          scope: scope.scope,
          ...(scope.scope === 'node' ? { node: scope.node } : {}),
          ...(scope.scope === 'workload' ? { workload: scope.workload } : {}),
          ...about,
          terminationReasons: reasons,
          pods: restarting.length,
          restarts: total,
          windowSeconds: cfg.windowMs / 1000,
          shared,
          top,
          examples: restarting
            .slice()
            .sort((a, b) => restarts(b) - restarts(a))
            .slice(0, cfg.maxListed)
            .map((p) => ({ pod: `${p.namespace}/${p.name}`, node: p.node, restarts: restarts(p) })),
        },
      }),
    ];
  }
  const out: Finding[] = [];
  for (const p of pods) {
    const looping = p.containers.filter((c) => c.restartsInWindow >= cfg.crashLoopRestarts);
    if (looping.length === 0) continue;
    const reasons = ranked(terminationReasons([p]));
    const c0 = looping[0]!;
    out.push(
      makeFinding(ID, cluster, now, {
        subject: `${p.namespace}/${p.name}`,
        severity: 'warning',
        summary: `pod ${p.namespace}/${p.name} crash-looping: container ${c0.name} restarted ${c0.restartsInWindow} times in ${window}${reasons[0] ? ` (last: ${reasons[0].value})` : ''}`,
        labels: { namespace: p.namespace, pod: p.name, node: p.node, ...(p.workload ? { workload: `${p.workload.kind}/${p.workload.name}` } : {}) },
        evidence: {
          namespace: p.namespace,
          pod: p.name,
          node: p.node,
          workload: p.workload ?? null,
          phase: p.phase,
          containers: looping.map((c) => ({
            name: c.name,
            restartsInWindow: c.restartsInWindow,
            restartCount: c.restartCount,
            waitingReason: c.waitingReason ?? null,
            lastTermination: c.lastTermination ?? null,
          })),
          windowSeconds: cfg.windowMs / 1000,
        },
      }),
    );
  }
  return out;
}
