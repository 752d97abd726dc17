// Preflight from an explicit list of checks, for callers whose ports differ by node (the fleet's
// attach: etcd ports on control-plane nodes, kubelet ports on workers). Same phases and report as
// runPreflight: every node binds its ports at once and holds them, so there is something to reach;
// then every reach check runs, each source node checking all its targets in one task; then the
// ports are released. Nothing else is changed, so a failed preflight leaves the nodes as they were.
import type { TaskQueue } from '../tasks/queue.ts';
import type { PreflightCheck, PreflightReport } from './preflight.ts';

export interface PortHold {
  node: string;
  address: string;
  ports: number[];
}

export interface ReachCheck {
  from: string;
  to: string;
  host: string;
  port: number;
}

export async function runPreflightChecks(queue: TaskQueue, cluster: string, spec: { hold: PortHold[]; reach: ReachCheck[]; timeoutMs?: number }): Promise<PreflightReport> {
  const t0 = Date.now();
  const timeoutMs = spec.timeoutMs ?? 5_000;
  const checks: PreflightCheck[] = [];
  const holding = spec.hold.filter((h) => h.ports.length > 0);
  await Promise.all(
    holding.map(async (h) => {
      const r = await queue.run(cluster, h.node, 'preflight.listen', { ports: h.ports, holdMs: 5_000 }, timeoutMs);
      if (!r.ok) {
        checks.push({ node: h.node, check: 'port-free', target: h.ports.join(','), ok: false, message: r.error });
        return;
      }
      for (const p of r.output.results) {
        checks.push({ node: h.node, check: 'port-free', target: `${h.address}:${p.port}`, ok: p.free, message: p.free ? 'free' : (p.error ?? 'in use') });
      }
    }),
  );
  const bySource = new Map<string, ReachCheck[]>();
  for (const c of spec.reach) bySource.set(c.from, [...(bySource.get(c.from) ?? []), c]);
  await Promise.all(
    [...bySource].map(async ([from, list]) => {
      const targets = list.map((c) => ({ node: c.to, host: c.host, port: c.port }));
      const r = await queue.run(cluster, from, 'preflight.check-reach', { targets, timeoutMs: Math.min(1_000, timeoutMs) }, timeoutMs);
      if (!r.ok) {
        checks.push({ node: from, check: 'reach', target: '*', ok: false, message: r.error });
        return;
      }
      for (const x of r.output.results) {
        checks.push({ node: from, check: 'reach', target: `${x.node} ${x.host}:${x.port}`, ok: x.reachable, message: x.reachable ? 'reachable' : 'unreachable' });
      }
    }),
  );
  await Promise.all(holding.map((h) => queue.run(cluster, h.node, 'preflight.release', {}, timeoutMs)));
  return { ok: checks.every((c) => c.ok), durationMs: Date.now() - t0, checks };
}
