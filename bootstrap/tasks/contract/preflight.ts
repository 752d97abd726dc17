// Preflight tasks: can a node bind the ports etcd needs, and can it reach its peers on theirs.
import { z } from 'zod';
import { none, port, portCheck } from './fields.ts';

const portsReport = z.object({ address: z.string(), results: z.array(portCheck) });

export const preflightTasks = {
  /** Binds the ports and holds them for `holdMs`, so other nodes have something to reach before etcd runs. */
  'preflight.listen': {
    params: z.strictObject({ ports: z.array(port).min(1).max(16), holdMs: z.number().int().min(0).max(10_000).default(2_000) }),
    result: portsReport,
  },
  'preflight.release': {
    params: none,
    result: z.object({ released: z.number().int().nonnegative() }),
  },
  'preflight.check-reach': {
    params: z.strictObject({
      targets: z.array(z.strictObject({ node: z.string().max(63), host: z.ipv4(), port })).max(64),
      timeoutMs: z.number().int().min(50).max(5_000).default(1_000),
    }),
    result: z.object({ results: z.array(z.object({ node: z.string(), host: z.string(), port, from: z.string(), reachable: z.boolean() })) }),
  },
  /** Binds and releases at once: is a port free right now. */
  'preflight.check-ports': {
    params: z.strictObject({ ports: z.array(port).min(1).max(16) }),
    result: portsReport,
  },
};
