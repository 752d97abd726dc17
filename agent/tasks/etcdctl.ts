// etcdctl for the things the gRPC client does not cover (snapshot save/status/restore). Fixed
// binary, fixed argument shapes, no shell. Every call is bounded: the task kind's budget from the
// contract is shared out between its calls (`Budget`), so the agent gives up before the plane does.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { agentBudgetMs, snapshotStatus, type TaskKind, type VerifiedSnapshot } from '../../bootstrap/tasks/contract.ts';
import { paths, type NodeEnv } from './node-env.ts';

/** What is left of one task's time on this agent; each etcdctl call gets at most the rest. */
export class Budget {
  private readonly deadline: number;

  constructor(
    readonly kind: TaskKind,
    readonly signal?: AbortSignal,
  ) {
    const ms = agentBudgetMs(kind);
    if (ms === undefined) throw new Error(`${kind} has no agent budget in the task contract (TASK_AGENT_BUDGET_MS)`);
    this.deadline = Date.now() + ms;
  }

  /** Milliseconds left for the next call; a spent budget fails the task before etcdctl starts. */
  left(what: string): number {
    const ms = this.deadline - Date.now();
    if (ms <= 0) throw new Error(`${this.kind}: out of time before ${what} (budget ${agentBudgetMs(this.kind)} ms)`);
    return ms;
  }
}

export function etcdctl(env: NodeEnv, args: string[], timeoutMs: number, signal?: AbortSignal): Promise<string> {
  const sub = args.filter((a) => !a.startsWith('-')).slice(0, 2).join(' ');
  return new Promise((resolve, reject) => {
    execFile(env.etcdctlBin ?? 'etcdctl', args, { env: { ...process.env, ETCDCTL_API: '3' }, timeout: timeoutMs, killSignal: 'SIGKILL', signal, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const killed = (err as { killed?: boolean }).killed;
        const msg = killed ? `no answer within ${timeoutMs} ms` : (stderr || err.message).trim().split('\n').filter(Boolean).slice(-2).join('; ');
        reject(new Error(`etcdctl ${sub} failed: ${msg}`));
      } else resolve(stdout);
    });
  });
}

export function tlsArgs(env: NodeEnv, clientPort: number): string[] {
  const f = paths(env);
  return [`--endpoints=https://${env.address}:${clientPort}`, `--cacert=${f.ca}`, `--cert=${f.clientCert}`, `--key=${f.key}`];
}

/**
 * Verifies a snapshot file: the SHA-256 that `snapshot save` appends must match the content (the
 * same check `snapshot restore` makes), and `etcdctl snapshot status` must read the database.
 */
export async function verifySnapshot(env: NodeEnv, file: string, budget: Budget): Promise<VerifiedSnapshot> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new Error(`snapshot ${file} does not exist`);
  }
  let sha256 = false;
  if (size % 512 === 32) {
    const buf = readFileSync(file);
    const want = buf.subarray(size - 32);
    const got = createHash('sha256').update(buf.subarray(0, size - 32)).digest();
    if (!got.equals(want)) throw new Error(`snapshot ${file} is corrupt: SHA-256 mismatch`);
    sha256 = true;
  }
  let out: string;
  try {
    out = await etcdctl(env, ['snapshot', 'status', file, '-w', 'json'], budget.left('snapshot status'), budget.signal);
  } catch (err) {
    throw new Error(`snapshot ${file} is corrupt or unreadable: ${(err as Error).message}`);
  }
  const s = snapshotStatus.safeParse(JSON.parse(out));
  if (!s.success) throw new Error(`snapshot ${file}: unexpected \`etcdctl snapshot status\` output: ${out.trim().slice(0, 200)}`);
  return { ...s.data, size, sha256 };
}
