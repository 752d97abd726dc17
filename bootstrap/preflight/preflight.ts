// Preflight before init and join: on every node at once, the ports etcd needs must be free to bind
// (new nodes) and the nodes must reach each other on them. New nodes hold short-lived listeners so
// there is something to reach before etcd runs; running members are reached on their live ports.
import type { TaskQueue } from '../tasks/queue.ts';

export interface PreflightNode {
  node: string;
  address: string;
}

export interface PreflightCheck {
  node: string;
  check: 'port-free' | 'reach';
  target: string;
  ok: boolean;
  message: string;
}

export interface PreflightReport {
  ok: boolean;
  durationMs: number;
  checks: PreflightCheck[];
}

export async function runPreflight(
  queue: TaskQueue,
  cluster: string,
  opts: { newNodes: PreflightNode[]; members: PreflightNode[]; clientPort: number; peerPort: number; timeoutMs?: number },
): Promise<PreflightReport> {
  const t0 = Date.now();
  const timeoutMs = opts.timeoutMs ?? 1_500;
  const checks: PreflightCheck[] = [];
  const ports = [opts.clientPort, opts.peerPort];
  // Phase 1: bind on every new node in parallel.
  await Promise.all(
    opts.newNodes.map(async (n) => {
      const r = await queue.run(cluster, n.node, 'preflight.listen', { ports, holdMs: 3_000 }, timeoutMs);
      if (!r.ok) {
        checks.push({ node: n.node, check: 'port-free', target: ports.join(','), ok: false, message: r.error ?? 'failed' });
        return;
      }
      for (const p of r.output.results) {
        checks.push({ node: n.node, check: 'port-free', target: `${n.address}:${p.port}`, ok: p.free, message: p.free ? 'free' : (p.error ?? 'in use') });
      }
    }),
  );
  // Phase 2: every node reaches every other node's peer port; new nodes also the members' client port.
  const all = [...opts.members, ...opts.newNodes];
  const isNew = new Set(opts.newNodes.map((n) => n.node));
  await Promise.all(
    all.map(async (from) => {
      const targets = all
        .filter((to) => to.node !== from.node)
        .flatMap((to) => [
          { node: to.node, host: to.address, port: opts.peerPort },
          ...(isNew.has(from.node) && !isNew.has(to.node) ? [{ node: to.node, host: to.address, port: opts.clientPort }] : []),
        ]);
      if (targets.length === 0) return;
      const r = await queue.run(cluster, from.node, 'preflight.check-reach', { targets, timeoutMs: Math.min(1_000, timeoutMs) }, timeoutMs);
      if (!r.ok) {
        checks.push({ node: from.node, check: 'reach', target: '*', ok: false, message: r.error ?? 'failed' });
        return;
      }
      for (const x of r.output.results) {
        checks.push({ node: from.node, check: 'reach', target: `${x.node} ${x.host}:${x.port}`, ok: x.reachable, message: x.reachable ? 'reachable' : 'unreachable' });
      }
    }),
  );
  await Promise.all(opts.newNodes.map((n) => queue.run(cluster, n.node, 'preflight.release', {}, timeoutMs)));
  return { ok: checks.every((c) => c.ok), durationMs: Date.now() - t0, checks };
}

export function formatPreflight(r: PreflightReport): string {
  const bad = r.checks.filter((c) => !c.ok);
  const head = `preflight ${r.ok ? 'passed' : 'FAILED'} in ${r.durationMs} ms (${r.checks.length} checks${bad.length ? `, ${bad.length} failed` : ''})`;
  return [head, ...bad.map((c) => `  ${c.node}: ${c.check} ${c.target}: ${c.message}`)].join('\n');
}
