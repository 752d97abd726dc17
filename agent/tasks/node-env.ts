// What an agent knows about its own node for running tasks. Paths come from here, never from a
// task's parameters: the management plane names files, the agent decides where they live.
import { join } from 'node:path';
import type { DiskCleanupConfig } from './disk-cleanup-config.ts';
import type { ServiceConfig } from './service-restart-config.ts';
import type { PackageConfig } from './upgrade-install-config.ts';

export interface NodeEnv {
  cluster: string;
  node: string;
  /** The node's own address; etcd binds here. */
  address: string;
  /** Per-node state: pki/, etcd data, pid and log files. */
  dataRoot: string;
  /** Where snapshots go: shared storage (NFS/object-store mount) reachable from every etcd node. */
  backupDir: string;
  etcdBin?: string;
  etcdctlBin?: string;
  /** `agent.tasks.diskCleanup`; without it `node.disk-cleanup` is refused. */
  diskCleanup?: DiskCleanupConfig;
  /** `agent.tasks.services`: the only units `node.service-restart` restarts. */
  services?: ServiceConfig[];
  /** `agent.tasks.packages`: the only components `node.upgrade-install` installs, and how. */
  packages?: PackageConfig[];
}

export const paths = (env: NodeEnv) => ({
  pkiDir: join(env.dataRoot, 'pki'),
  ca: join(env.dataRoot, 'pki', 'ca.crt'),
  key: join(env.dataRoot, 'pki', 'node.key'),
  serverCert: join(env.dataRoot, 'pki', 'server.crt'),
  peerCert: join(env.dataRoot, 'pki', 'peer.crt'),
  clientCert: join(env.dataRoot, 'pki', 'client.crt'),
  dataDir: join(env.dataRoot, 'etcd-data'),
  pidFile: join(env.dataRoot, 'etcd.pid'),
  logFile: join(env.dataRoot, 'etcd.log'),
});
