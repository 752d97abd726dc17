// Embedded defaults need secrets nobody typed: the local cluster's join token and an operator token.
// They are generated once, kept under the data directory with mode 0600, and reused on every start.
// Beside them `whistle start` records the hash of the plane's CA (not a secret: what agents pin),
// so whoever holds the join token finds what else an agent needs in the same place.
import { mkdirSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { newToken } from '../core/http/tokens.ts';

export const CA_CERT_HASH_FILE = 'ca-cert-hash';

function readOrCreate(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const token = newToken();
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return token;
}

export function localSecrets(dataDir: string): { joinToken: string; operatorToken: string } {
  mkdirSync(dataDir, { recursive: true });
  return { joinToken: readOrCreate(join(dataDir, 'join-token')), operatorToken: readOrCreate(join(dataDir, 'operator-token')) };
}

/** Writes `<dataDir>/ca-cert-hash`; over plain HTTP there is no CA, and a stale hash would mislead. */
export function recordCaCertHash(dataDir: string, hash: string | undefined): void {
  const path = join(dataDir, CA_CERT_HASH_FILE);
  if (hash) writeFileSync(path, `${hash}\n`, { mode: 0o644 });
  else rmSync(path, { force: true });
}
