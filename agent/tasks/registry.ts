// The allow-list: the only task kinds an agent will run, one handler for each kind of the task
// contract. Anything else is refused by name.
import { nodeDiskCleanup } from './disk-cleanup.ts';
import { etcdProcess, etcdReset, etcdRestore, etcdSnapshot, etcdSnapshotVerify, etcdStart, etcdStop } from './etcd-lifecycle-tasks.ts';
import { etcdMemberAdd, etcdMemberPromote, etcdMemberRemove, etcdMembers } from './etcd-member-tasks.ts';
import type { TaskHandlers } from './handler.ts';
import { pkiCsr, pkiInstall } from './pki-tasks.ts';
import { preflightListen, preflightPorts, preflightReach, preflightRelease } from './preflight-tasks.ts';
import { nodeServiceRestart } from './service-restart.ts';
import { nodeUpgradeInstall } from './upgrade-install.ts';

export const TASK_HANDLERS: TaskHandlers = {
  'pki.csr': pkiCsr,
  'pki.install': pkiInstall,
  'preflight.listen': preflightListen,
  'preflight.release': preflightRelease,
  'preflight.check-reach': preflightReach,
  'preflight.check-ports': preflightPorts,
  'etcd.start': etcdStart,
  'etcd.stop': etcdStop,
  'etcd.reset': etcdReset,
  'etcd.process': etcdProcess,
  'etcd.snapshot': etcdSnapshot,
  'etcd.snapshot-verify': etcdSnapshotVerify,
  'etcd.restore': etcdRestore,
  'etcd.members': etcdMembers,
  'etcd.member-add': etcdMemberAdd,
  'etcd.member-promote': etcdMemberPromote,
  'etcd.member-remove': etcdMemberRemove,
  'node.disk-cleanup': nodeDiskCleanup,
  'node.service-restart': nodeServiceRestart,
  'node.upgrade-install': nodeUpgradeInstall,
};
