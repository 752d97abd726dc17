// Console operators who sign in with a name and a password set by an admin (`whistle operators
// add|passwd|remove`, /v1/operators). Only the scrypt hash is kept, in `console_operators`, and
// held in memory for sign-in. A removed operator's sessions end with it (see ConsoleSessions).
import { ConflictError, InputError, NotFoundError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export interface ConsoleOperator {
  name: string;
  updatedAt: number;
  updatedBy: string;
}

interface Row {
  name: string;
  password_hash: string;
  removed: number;
  updated_at: number;
  updated_by: string;
}

/** Names show in pages, the audit log and Slack: letters, digits and . _ @ - only. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
export const MIN_PASSWORD = 12;

export function checkName(name: string, field = 'name'): string {
  if (!NAME.test(name)) throw new InputError(`${field}: 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`);
  return name;
}

export function checkPassword(password: string, field = 'password'): string {
  if (password.length < MIN_PASSWORD) throw new InputError(`${field}: at least ${MIN_PASSWORD} characters`);
  if (password.length > 1024) throw new InputError(`${field}: at most 1024 characters`);
  return password;
}

export class ConsoleOperators {
  private readonly byName = new Map<string, Row>();
  private version = 0;
  /** Told when an operator is removed or gets a new password (their sessions end). */
  onChange: (name: string) => Promise<void> = async () => undefined;

  constructor(private readonly store: Store) {}

  async load(): Promise<void> {
    const rows = await this.store.query<Row>(
      `SELECT name, argMax(password_hash, version) AS password_hash, argMax(removed, version) AS removed,
              toUnixTimestamp64Milli(argMax(updated_at, version)) AS updated_at, argMax(updated_by, version) AS updated_by
       FROM console_operators GROUP BY name`,
    );
    this.byName.clear();
    for (const r of rows) if (Number(r.removed) === 0) this.byName.set(r.name, { ...r, updated_at: Number(r.updated_at) });
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  list(): ConsoleOperator[] {
    return [...this.byName.values()].map((r) => ({ name: r.name, updatedAt: r.updated_at, updatedBy: r.updated_by })).sort((a, b) => a.name.localeCompare(b.name));
  }

  async add(name: string, password: string, actor: string): Promise<ConsoleOperator> {
    checkName(name);
    checkPassword(password);
    if (this.byName.has(name)) throw new ConflictError(`operator "${name}" exists (set a new password with passwd)`);
    return this.write(name, await hashPassword(password), false, actor);
  }

  async setPassword(name: string, password: string, actor: string): Promise<ConsoleOperator> {
    checkPassword(password);
    if (!this.byName.has(name)) throw new NotFoundError(`no operator "${name}"`);
    const op = await this.write(name, await hashPassword(password), false, actor);
    await this.onChange(name);
    return op;
  }

  async remove(name: string, actor: string): Promise<ConsoleOperator> {
    if (!this.byName.has(name)) throw new NotFoundError(`no operator "${name}"`);
    const op = await this.write(name, '', true, actor);
    await this.onChange(name);
    return op;
  }

  /** The operator's name when the password is theirs, else null (same work for an unknown name). */
  async verify(name: string, password: string): Promise<string | null> {
    const row = this.byName.get(name);
    // An unknown name still costs one scrypt, so timing does not tell which names exist.
    const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
    return row && ok ? row.name : null;
  }

  private async write(name: string, hash: string, removed: boolean, actor: string): Promise<ConsoleOperator> {
    this.version = Math.max(this.version + 1, Date.now() * 1000);
    const now = Date.now();
    await this.store.insert('console_operators', [{ name, password_hash: hash, removed: removed ? 1 : 0, updated_at: now, updated_by: actor, version: this.version }]);
    if (removed) this.byName.delete(name);
    else this.byName.set(name, { name, password_hash: hash, removed: 0, updated_at: now, updated_by: actor });
    return { name, updatedAt: now, updatedBy: actor };
  }
}

/** A valid hash of a random password nobody knows (for unknown names). */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
