// The allow-list: the only task kinds an agent will run. Anything else is refused by name.
import { etcdProcess, etcdReset, etcdRestore, etcdSnapshot, etcdSnapshotVerify, etcdStart, etcdStop } from './etcd-lifecycle-tasks.ts';
import { etcdMemberAdd, etcdMemberPromote, etcdMemberRemove, etcdMembers } from './etcd-member-tasks.ts';
import { pkiCsr, pkiInstall } from './pki-tasks.ts';
import { preflightListen, preflightPorts, preflightReach, preflightRelease } from './preflight-tasks.ts';
import type { TaskKind } from './task-kind.ts';

export const ALLOWED_TASKS: readonly TaskKind[] = [
  pkiCsr,
  pkiInstall,
  preflightListen,
  preflightRelease,
  preflightReach,
  preflightPorts,
  etcdStart,
  etcdStop,
  etcdReset,
  etcdProcess,
  etcdSnapshot,
  etcdSnapshotVerify,
  etcdRestore,
  etcdMembers,
  etcdMemberAdd,
  etcdMemberPromote,
  etcdMemberRemove,
] as TaskKind[];

export const ALLOWED_KINDS: readonly string[] = ALLOWED_TASKS.map((t) => t.kind);
