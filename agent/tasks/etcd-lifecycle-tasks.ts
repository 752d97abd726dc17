// Member lifecycle on this node: start, stop, reset (stop and wipe the data dir), snapshot with
// retention, snapshot verification, restore from a snapshot. Each is idempotent.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VerifiedSnapshot } from '../../bootstrap/tasks/contract.ts';
import { Budget, etcdctl, tlsArgs, verifySnapshot } from './etcdctl.ts';
import { runningPid, startEtcd, stopEtcd } from './etcd-process.ts';
import type { TaskHandler } from './handler.ts';
import { paths } from './node-env.ts';

export const etcdStart: TaskHandler<'etcd.start'> = (p, env) => startEtcd(env, p);

export const etcdStop: TaskHandler<'etcd.stop'> = (_p, env) => stopEtcd(env);

export const etcdReset: TaskHandler<'etcd.reset'> = async (_p, env) => {
  const stopped = await stopEtcd(env);
  const f = paths(env);
  const had = existsSync(f.dataDir);
  rmSync(f.dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  rmSync(join(env.dataRoot, 'restored.json'), { force: true });
  return { stopped: stopped.stopped, wiped: had };
};

export const etcdProcess: TaskHandler<'etcd.process'> = async (_p, env) => {
  const pid = runningPid(env);
  return { running: pid !== undefined, pid: pid ?? null, hasData: existsSync(join(paths(env).dataDir, 'member')) };
};

export const etcdSnapshot: TaskHandler<'etcd.snapshot'> = async (p, env, signal) => {
  const budget = new Budget('etcd.snapshot', signal);
  mkdirSync(env.backupDir, { recursive: true });
  const target = join(env.backupDir, p.file);
  let status: VerifiedSnapshot;
  if (existsSync(target)) status = await verifySnapshot(env, target, budget);
  else {
    // Saved and verified under a name retention does not count, then renamed into place and the
    // oldest deleted at once: the directory never holds more than `retain` snapshots for longer
    // than two file operations, and never fewer good ones than before.
    const staged = `${target}.saving`;
    try {
      await etcdctl(env, [...tlsArgs(env, p.clientPort), 'snapshot', 'save', staged], budget.left('snapshot save'), signal);
      status = await verifySnapshot(env, staged, budget);
      renameSync(staged, target);
    } finally {
      // A save killed at its deadline leaves etcdctl's partial file; neither is a snapshot.
      rmSync(staged, { force: true });
      rmSync(`${staged}.part`, { force: true });
    }
  }
  // Retention: only after a good save, only files of this cluster, oldest first.
  const mine = readdirSync(env.backupDir)
    .filter((n) => n.startsWith(`${p.prefix}-`) && n.endsWith('.db'))
    .sort();
  const deleted = mine.slice(0, Math.max(0, mine.length - p.retain));
  for (const n of deleted) rmSync(join(env.backupDir, n), { force: true });
  return { file: p.file, ...status, deleted };
};

export const etcdSnapshotVerify: TaskHandler<'etcd.snapshot-verify'> = async (p, env, signal) => ({
  file: p.file,
  ...(await verifySnapshot(env, join(env.backupDir, p.file), new Budget('etcd.snapshot-verify', signal))),
});

export const etcdRestore: TaskHandler<'etcd.restore'> = async (p, env, signal) => {
  const budget = new Budget('etcd.restore', signal);
  const f = paths(env);
  const marker = join(env.dataRoot, 'restored.json');
  if (existsSync(marker) && existsSync(f.dataDir)) {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as { file?: string; token?: string };
    if (m.file === p.file && m.token === p.token) return { restored: false, alreadyRestored: true };
  }
  const snap = join(env.backupDir, p.file);
  const status = await verifySnapshot(env, snap, budget);
  // Restore next to the live data first: a failure here leaves the member exactly as it was.
  const staging = `${f.dataDir}.restoring`;
  rmSync(staging, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  await etcdctl(env, [
    'snapshot',
    'restore',
    snap,
    `--name=${env.node}`,
    `--initial-cluster=${p.initialCluster}`,
    `--initial-cluster-token=${p.token}`,
    `--initial-advertise-peer-urls=https://${env.address}:${p.peerPort}`,
    `--data-dir=${staging}`,
  ], budget.left('snapshot restore'), signal);
  const stopped = await stopEtcd(env);
  let keptAs: string | null = null;
  if (existsSync(f.dataDir)) {
    // The old data is kept, not deleted: a restore must never be the step that loses data.
    keptAs = `${f.dataDir}.before-restore-${Date.now()}`;
    renameSync(f.dataDir, keptAs);
  }
  renameSync(staging, f.dataDir);
  writeFileSync(marker, JSON.stringify({ file: p.file, token: p.token, at: Date.now() }));
  return { restored: true, stopped: stopped.stopped, keptOldDataAs: keptAs, snapshot: status };
};
