// etcdctl for the things the gRPC client does not cover (snapshot save/status/restore). Fixed
// binary, fixed argument shapes, no shell.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { snapshotStatus, type VerifiedSnapshot } from '../../bootstrap/tasks/contract.ts';
import { paths, type NodeEnv } from './node-env.ts';

export function etcdctl(env: NodeEnv, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(env.etcdctlBin ?? 'etcdctl', args, { env: { ...process.env, ETCDCTL_API: '3' }, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const msg = (stderr || err.message).trim().split('\n').filter(Boolean).slice(-2).join('; ');
        reject(new Error(`etcdctl ${args.find((a) => !a.startsWith('-')) ?? ''} failed: ${msg}`));
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
export async function verifySnapshot(env: NodeEnv, file: string): Promise<VerifiedSnapshot> {
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
    out = await etcdctl(env, ['snapshot', 'status', file, '-w', 'json'], 30_000);
  } catch (err) {
    throw new Error(`snapshot ${file} is corrupt or unreadable: ${(err as Error).message}`);
  }
  const s = snapshotStatus.safeParse(JSON.parse(out));
  if (!s.success) throw new Error(`snapshot ${file}: unexpected \`etcdctl snapshot status\` output: ${out.trim().slice(0, 200)}`);
  return { ...s.data, size, sha256 };
}
