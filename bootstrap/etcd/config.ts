// The `etcd` config section: which nodes hold (or may hold) members of each managed etcd cluster,
// its ports, and backups. Defaults live here and nowhere else.
import { z } from 'zod';

const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be 1-63 letters, digits, ".", "_" or "-"');
const port = z.number().int().min(1).max(65535);

export const etcdNodeSchema = z.strictObject({
  /** The agent's node name; the member takes the same name. */
  node: name,
  /** The node's address; members listen on it (127.0.0.x on one machine). */
  address: z.ipv4(),
  /** `spare` nodes hold no member until a replacement needs one. */
  role: z.enum(['member', 'spare']).default('member'),
});

export const etcdClusterSchema = z
  .strictObject({
    /** The Whistle cluster (clusters[].name) this etcd belongs to. */
    cluster: name,
    clientPort: port.default(2379),
    peerPort: port.default(2380),
    nodes: z.array(etcdNodeSchema).min(1),
    /**
     * Voting members the cluster should have. A replacement keeps this count (a spare takes the
     * lost member's place), so health is judged against it, not against the names seen lately.
     * Default: the nodes with role `member`.
     */
    members: z.number().int().min(1).optional(),
    quotaBackendBytes: z.number().int().positive().default(2 * 1024 ** 3),
    heartbeatMs: z.number().int().positive().default(100),
    electionMs: z.number().int().positive().default(1000),
    snapshots: z
      .strictObject({
        /** Scheduled snapshot period; 0 turns the schedule off (on-demand `snapshot` still works). */
        intervalS: z.number().int().nonnegative().default(3600),
        /** Snapshots kept; older ones are deleted after each successful save. */
        retain: z.number().int().positive().default(5),
      })
      .prefault({}),
  })
  .refine((c) => c.clientPort !== c.peerPort, { message: 'clientPort and peerPort must differ', path: ['peerPort'] })
  .refine((c) => new Set(c.nodes.map((n) => n.node)).size === c.nodes.length, { message: 'node names must be unique', path: ['nodes'] })
  .refine((c) => new Set(c.nodes.map((n) => n.address)).size === c.nodes.length, { message: 'node addresses must be unique', path: ['nodes'] })
  .refine((c) => desiredMembers(c) >= 1, { message: 'no node has role "member": give members or mark nodes as members', path: ['members'] })
  .refine((c) => desiredMembers(c) <= c.nodes.length, { message: 'cannot exceed the number of nodes', path: ['members'] })
  .transform((c) => ({ ...c, members: desiredMembers(c) }));

function desiredMembers(c: { members?: number; nodes: { role: string }[] }): number {
  return c.members ?? c.nodes.filter((n) => n.role === 'member').length;
}

export const etcdSchema = z
  .strictObject({
    /** The cluster CAs (one per etcd cluster) live here; keys are mode 0600. */
    pkiDir: z.string().default('./data/etcd-pki'),
    /** Upper bound for one agent task (start, snapshot, restore...). */
    taskTimeoutMs: z.number().int().positive().default(60_000),
    /** An agent that has not polled for tasks within this long counts as gone. */
    agentGoneMs: z.number().int().positive().default(30_000),
    /** How long a join or restore waits for every member to report healthy. */
    verifyTimeoutMs: z.number().int().positive().default(60_000),
    clusters: z.array(etcdClusterSchema).default([]),
  })
  .prefault({});

export type EtcdConfig = z.output<typeof etcdSchema>;
export type EtcdClusterConfig = z.output<typeof etcdClusterSchema>;
export type EtcdNodeConfig = z.infer<typeof etcdNodeSchema>;
