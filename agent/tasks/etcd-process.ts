// Starting and stopping the node's etcd member. The process is detached and tracked by a pid file,
// so an agent restart neither kills nor forgets it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { TaskParams } from '../../bootstrap/tasks/contract.ts';
import { sleep } from '../../core/backoff.ts';
import { paths, type NodeEnv } from './node-env.ts';

export function runningPid(env: NodeEnv): number | undefined {
  const { pidFile } = paths(env);
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  // A recycled pid that is no longer etcd must not be signalled.
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmd.includes('etcd')) return undefined;
    // A zombie (exited, not yet reaped) counts as gone.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}

export function logTail(env: NodeEnv, lines = 8): string {
  try {
    const text = readFileSync(paths(env).logFile, 'utf8').trim().split('\n').slice(-lines);
    // etcd logs JSON lines; keep only the message and error for people.
    return text
      .map((l) => {
        try {
          const j = JSON.parse(l) as { msg?: string; error?: string };
          return [j.msg, j.error].filter(Boolean).join(': ');
        } catch {
          return l;
        }
      })
      .join('\n');
  } catch {
    return '';
  }
}

export function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

type StartParams = TaskParams<'etcd.start'>;

export function etcdArgs(env: NodeEnv, p: StartParams): string[] {
  const f = paths(env);
  const client = `https://${env.address}:${p.clientPort}`;
  const peer = `https://${env.address}:${p.peerPort}`;
  return [
    `--name=${env.node}`,
    `--data-dir=${f.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${p.initialCluster}`,
    `--initial-cluster-state=${p.state}`,
    `--initial-cluster-token=${p.token}`,
    `--quota-backend-bytes=${p.quotaBackendBytes}`,
    `--heartbeat-interval=${p.heartbeatMs}`,
    `--election-timeout=${p.electionMs}`,
    // Client and peer TLS with certificate authentication: secure by default.
    `--cert-file=${f.serverCert}`,
    `--key-file=${f.key}`,
    '--client-cert-auth',
    `--trusted-ca-file=${f.ca}`,
    `--peer-cert-file=${f.peerCert}`,
    `--peer-key-file=${f.key}`,
    '--peer-client-cert-auth',
    `--peer-trusted-ca-file=${f.ca}`,
    '--logger=zap',
    '--log-outputs=stderr',
    // Refuse to serve stale reads to a member that lost its leader (3.4 default is fine) and
    // check a restored/joined member's data before it serves.
    '--strict-reconfig-check',
  ];
}

export async function startEtcd(env: NodeEnv, p: StartParams): Promise<{ pid: number; alreadyRunning: boolean }> {
  const f = paths(env);
  const existing = runningPid(env);
  if (existing) return { pid: existing, alreadyRunning: true };
  for (const file of [f.ca, f.key, f.serverCert, f.peerCert]) {
    if (!existsSync(file)) throw new Error(`missing ${file}: run pki tasks first`);
  }
  if (await tcpOpen(env.address, p.clientPort, 300)) throw new Error(`port ${env.address}:${p.clientPort} is already taken by another process`);
  if (await tcpOpen(env.address, p.peerPort, 300)) throw new Error(`port ${env.address}:${p.peerPort} is already taken by another process`);
  mkdirSync(env.dataRoot, { recursive: true });
  const log = openSync(f.logFile, 'w');
  const child = spawn(env.etcdBin ?? 'etcd', etcdArgs(env, p), { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.once('error', () => (exited = -1));
  child.unref();
  if (!child.pid) throw new Error(`could not start ${env.etcdBin ?? 'etcd'}`);
  writeFileSync(f.pidFile, String(child.pid));
  const deadline = Date.now() + p.readyTimeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      rmSync(f.pidFile, { force: true });
      throw new Error(`etcd exited (code ${exited}): ${logTail(env, 4)}`);
    }
    if (await tcpOpen(env.address, p.clientPort, 200)) return { pid: child.pid, alreadyRunning: false };
    await sleep(50);
  }
  signal(child.pid, 'SIGKILL');
  rmSync(f.pidFile, { force: true });
  throw new Error(`etcd did not listen on ${env.address}:${p.clientPort} within ${p.readyTimeoutMs} ms: ${logTail(env, 4)}`);
}

export async function stopEtcd(env: NodeEnv, graceMs = 5_000): Promise<{ stopped: boolean; pid?: number }> {
  const pid = runningPid(env);
  const { pidFile } = paths(env);
  if (!pid) {
    rmSync(pidFile, { force: true });
    return { stopped: false };
  }
  // The process may exit on its own between the check and the signal (a removed member shuts
  // itself down): a signal to a pid that is gone is not an error here.
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && runningPid(env)) await sleep(50);
  if (runningPid(env)) signal(pid, 'SIGKILL');
  while (runningPid(env)) await sleep(20);
  rmSync(pidFile, { force: true });
  return { stopped: true, pid };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
