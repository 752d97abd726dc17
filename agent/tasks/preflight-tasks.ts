// Preflight tasks: can this node bind the ports etcd needs, and can it reach its peers on theirs.
// `preflight.listen` holds short-lived listeners so the other nodes have something to reach before
// etcd runs; they close after `holdMs` or on `preflight.release`.
import { createServer, type Server } from 'node:net';
import { z } from 'zod';
import { tcpOpen } from './etcd-process.ts';
import { defineTask } from './task-kind.ts';

const port = z.number().int().min(1).max(65535);
const held = new Map<string, Server[]>();

function bind(host: string, p: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((sock) => sock.destroy());
    s.once('error', reject);
    s.listen({ host, port: p, exclusive: true }, () => resolve(s));
  });
}

export const preflightListen = defineTask(
  'preflight.listen',
  z.strictObject({ ports: z.array(port).min(1).max(16), holdMs: z.number().int().min(0).max(10_000).default(2_000) }),
  async (p, env) => {
    const key = `${env.cluster}/${env.node}`;
    const results: { port: number; free: boolean; error?: string }[] = [];
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
  },
);

export const preflightRelease = defineTask('preflight.release', z.strictObject({}), async (_p, env) => {
  const key = `${env.cluster}/${env.node}`;
  const servers = held.get(key) ?? [];
  held.delete(key);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return { released: servers.length };
});

export const preflightReach = defineTask(
  'preflight.check-reach',
  z.strictObject({
    targets: z.array(z.strictObject({ node: z.string().max(63), host: z.ipv4(), port })).max(64),
    timeoutMs: z.number().int().min(50).max(5_000).default(1_000),
  }),
  async (p, env) => {
    const results = await Promise.all(
      p.targets.map(async (t) => ({ ...t, from: env.node, reachable: await tcpOpen(t.host, t.port, p.timeoutMs) })),
    );
    return { results };
  },
);

/** Used by the bad-input test and by preflight: is a port free to bind right now. */
export const preflightPorts = defineTask('preflight.check-ports', z.strictObject({ ports: z.array(port).min(1).max(16) }), async (p, env) => {
  const results: { port: number; free: boolean; error?: string }[] = [];
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
});
