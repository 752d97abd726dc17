// Member lifecycle tasks on one node: start, stop, reset, process state, snapshot, verify, restore.
import { z } from 'zod';
import { clusterToken, initialCluster, none, port, snapshotFile } from './fields.ts';

/** What `etcdctl snapshot status` reports, plus the file's size and whether its SHA-256 trailer checked out. */
export const snapshotStatus = z.object({
  hash: z.number(),
  revision: z.number(),
  totalKey: z.number(),
  totalSize: z.number(),
});
const verifiedSnapshot = snapshotStatus.extend({ size: z.number(), sha256: z.boolean() });
export type VerifiedSnapshot = z.output<typeof verifiedSnapshot>;

export const etcdLifecycleTasks = {
  'etcd.start': {
    params: z.strictObject({
      clientPort: port,
      peerPort: port,
      initialCluster,
      state: z.enum(['new', 'existing']),
      token: clusterToken,
      quotaBackendBytes: z.number().int().positive().default(2 * 1024 ** 3),
      heartbeatMs: z.number().int().positive().default(100),
      electionMs: z.number().int().positive().default(1000),
      readyTimeoutMs: z.number().int().positive().max(120_000).default(15_000),
    }),
    result: z.object({ pid: z.number().int().positive(), alreadyRunning: z.boolean() }),
  },
  'etcd.stop': {
    params: none,
    result: z.object({ stopped: z.boolean(), pid: z.number().int().positive().optional() }),
  },
  /** Stop and wipe the data dir; certificates stay. */
  'etcd.reset': {
    params: none,
    result: z.object({ stopped: z.boolean(), wiped: z.boolean() }),
  },
  'etcd.process': {
    params: none,
    result: z.object({ running: z.boolean(), pid: z.number().int().positive().nullable(), hasData: z.boolean() }),
  },
  /** Save (unless the file exists), verify, then delete this cluster's snapshots beyond the newest `retain`. */
  'etcd.snapshot': {
    params: z.strictObject({ clientPort: port, file: snapshotFile, retain: z.number().int().positive().max(1000), prefix: clusterToken }),
    result: verifiedSnapshot.extend({ file: snapshotFile, deleted: z.array(z.string()) }),
  },
  'etcd.snapshot-verify': {
    params: z.strictObject({ file: snapshotFile }),
    result: verifiedSnapshot.extend({ file: snapshotFile }),
  },
  /** Restore into a staging dir, keep the old data dir aside, swap; a re-run with the same file and token does nothing. */
  'etcd.restore': {
    params: z.strictObject({ file: snapshotFile, initialCluster, token: clusterToken, peerPort: port }),
    result: z.discriminatedUnion('restored', [
      z.object({ restored: z.literal(false), alreadyRestored: z.literal(true) }),
      z.object({ restored: z.literal(true), stopped: z.boolean(), keptOldDataAs: z.string().nullable(), snapshot: verifiedSnapshot }),
    ]),
  },
};
