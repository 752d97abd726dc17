// The node token the management plane issued at registration, kept in stateDir (mode 0600) so a
// restarted agent keeps its identity and its authorization instead of registering again (every
// registration issues a new token and may need a new approval). The token is bound to the cluster
// and node it was issued for: if either changes in the config, the stored token is ignored.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { unlinkIfExists, writeFileAtomic } from './atomic-file.ts';

export interface Identity {
  cluster: string;
  node: string;
}

interface TokenFile extends Identity {
  token: string;
  issuedAt: string;
}

export const TOKEN_FILE = 'node-token.json';

export class TokenStore {
  readonly path: string;
  constructor(stateDir: string) {
    this.path = join(stateDir, TOKEN_FILE);
  }

  async load(id: Identity): Promise<string | undefined> {
    let parsed: Partial<TokenFile>;
    try {
      parsed = JSON.parse(await readFile(this.path, 'utf8')) as Partial<TokenFile>;
    } catch {
      return undefined; // none yet, or unreadable: registering again is the way out either way
    }
    if (parsed.cluster !== id.cluster || parsed.node !== id.node || typeof parsed.token !== 'string' || !parsed.token) return undefined;
    return parsed.token;
  }

  async save(id: Identity, token: string): Promise<void> {
    const data: TokenFile = { ...id, token, issuedAt: new Date().toISOString() };
    await writeFileAtomic(this.path, JSON.stringify(data), 0o600);
  }

  async clear(): Promise<void> {
    await unlinkIfExists(this.path);
  }
}
