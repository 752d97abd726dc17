// Preflight tasks: can this node bind the ports etcd needs, and can it reach its peers on theirs.
// `preflight.listen` holds short-lived listeners so the other nodes have something to reach before
// etcd runs; they close after `holdMs` or on `preflight.release`.
import { createServer, type Server } from 'node:net';
import type { TaskResult } from '../../bootstrap/tasks/contract.ts';
import { tcpOpen } from './etcd-process.ts';
import type { TaskHandler } from './handler.ts';

type PortCheck = TaskResult<'preflight.check-ports'>['results'][number];

const held = new Map<string, Server[]>();

function bind(host: string, p: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((sock) => sock.destroy());
    s.once('error', reject);
    s.listen({ host, port: p, exclusive: true }, () => resolve(s));
  });
}

export const preflightListen: TaskHandler<'preflight.listen'> = async (p, env) => {
  const key = `${env.cluster}/${env.node}`;
  const results: PortCheck[] = [];
  const servers: Server[] = [];
  for (const port of p.ports) {
    try {
      servers.push(await bind(env.address, port));
      results.push({ port, free: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      results.push({ port, free: false, error: code === 'EADDRINUSE' ? `${env.address}:${port} is already in use` : `${env.address}:${port}: ${(err as Error).message}` });
    }
  }
  const previous = held.get(key) ?? [];
  held.set(key, [...previous, ...servers]);
  setTimeout(() => servers.forEach((s) => s.close()), p.holdMs).unref();
  return { address: env.address, results };
};

export const preflightRelease: TaskHandler<'preflight.release'> = async (_p, env) => {
  const key = `${env.cluster}/${env.node}`;
  const servers = held.get(key) ?? [];
  held.delete(key);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return { released: servers.length };
};

export const preflightReach: TaskHandler<'preflight.check-reach'> = async (p, env) => {
  const results = await Promise.all(p.targets.map(async (t) => ({ ...t, from: env.node, reachable: await tcpOpen(t.host, t.port, p.timeoutMs) })));
  return { results };
};

/** Used by the bad-input test and by preflight: is a port free to bind right now. */
export const preflightPorts: TaskHandler<'preflight.check-ports'> = async (p, env) => {
  const results: PortCheck[] = [];
  for (const port of p.ports) {
    try {
      const s = await bind(env.address, port);
      await new Promise<void>((r) => s.close(() => r()));
      results.push({ port, free: true });
    } catch (err) {
      results.push({ port, free: false, error: `${env.address}:${port}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
  }
  return { address: env.address, results };
};
