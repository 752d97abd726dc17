// Embedded defaults need secrets nobody typed: the local cluster's join token and an operator token.
// They are generated once, kept under the data directory with mode 0600, and reused on every start.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { newToken } from '../core/http/tokens.ts';

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
