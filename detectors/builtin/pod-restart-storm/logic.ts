// pod-restart-storm from rows: pods with their containers' restarts within the window. Single
// crash-looping pods get a finding each; when many pods restart together, one storm finding names
// what they share (node, namespace, workload) and their last termination reasons instead.
import type { Finding } from '../../../core/types.ts';
import { humanDuration, makeFinding } from '../../api.ts';
import type { KubePodState } from '../../../core/kube.ts';
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

export function podRestartFindings(cluster: string, now: number, pods: readonly KubePodState[], cfg: PodRestartStormConfig): Finding[] {
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
    return [
      makeFinding(ID, cluster, now, {
        subject: 'storm',
        severity: 'critical',
        summary: `restart storm: ${restarting.length} pods restarted ${total} times in ${window}${sharedText ? `, all on ${sharedText}` : ''}${reasonText ? `; last terminations: ${reasonText}` : ''}`,
        labels: { ...shared },
        evidence: {
          pods: restarting.length,
          restarts: total,
          windowSeconds: cfg.windowMs / 1000,
          shared,
          top,
          terminationReasons: reasons,
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
