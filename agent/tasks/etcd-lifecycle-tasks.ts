// Member lifecycle on this node: start, stop, reset (stop and wipe the data dir), snapshot with
// retention, snapshot verification, restore from a snapshot. Each is idempotent.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { etcdctl, tlsArgs, verifySnapshot } from './etcdctl.ts';
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

export const etcdSnapshot: TaskHandler<'etcd.snapshot'> = async (p, env) => {
  mkdirSync(env.backupDir, { recursive: true });
  const target = join(env.backupDir, p.file);
  if (!existsSync(target)) {
    await etcdctl(env, [...tlsArgs(env, p.clientPort), 'snapshot', 'save', target]);
  }
  const status = await verifySnapshot(env, target);
  // Retention: only after a good save, only files of this cluster, oldest first.
  const mine = readdirSync(env.backupDir)
    .filter((n) => n.startsWith(`${p.prefix}-`) && n.endsWith('.db'))
    .sort();
  const deleted = mine.slice(0, Math.max(0, mine.length - p.retain));
  for (const n of deleted) rmSync(join(env.backupDir, n), { force: true });
  return { file: p.file, ...status, deleted };
};

export const etcdSnapshotVerify: TaskHandler<'etcd.snapshot-verify'> = async (p, env) => ({
  file: p.file,
  ...(await verifySnapshot(env, join(env.backupDir, p.file))),
});

export const etcdRestore: TaskHandler<'etcd.restore'> = async (p, env) => {
  const f = paths(env);
  const marker = join(env.dataRoot, 'restored.json');
  if (existsSync(marker) && existsSync(f.dataDir)) {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as { file?: string; token?: string };
    if (m.file === p.file && m.token === p.token) return { restored: false, alreadyRestored: true };
  }
  const snap = join(env.backupDir, p.file);
  const status = await verifySnapshot(env, snap);
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
  ]);
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
