// Console sessions, kept server-side in `console_sessions` (so a restart keeps them, and signing
// out or removing an operator ends them everywhere) and in memory for the per-request check. The
// cookie carries a random id; the table holds only its SHA-256.
import { randomBytes } from 'node:crypto';
import { hashToken } from '../core/http/tokens.ts';
import type { Store } from '../store/store.ts';

export interface Session {
  idHash: string;
  operator: string;
  /** How the operator signed in: `password` or `token`. */
  via: 'password' | 'token';
  createdAt: number;
  expiresAt: number;
}

interface Row {
  id_hash: string;
  operator: string;
  via: string;
  created_at: number;
  expires_at: number;
  ended: number;
}

export class ConsoleSessions {
  private readonly byHash = new Map<string, Session>();
  private version = 0;

  constructor(
    private readonly store: Store,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async load(): Promise<void> {
    const rows = await this.store.query<Row>(
      `SELECT id_hash, argMax(operator, version) AS operator, argMax(via, version) AS via,
              toUnixTimestamp64Milli(argMax(created_at, version)) AS created_at,
              toUnixTimestamp64Milli(argMax(expires_at, version)) AS expires_at, argMax(ended, version) AS ended
       FROM console_sessions GROUP BY id_hash
       HAVING ended = 0 AND expires_at > {now:Int64}`,
      { now: this.now() },
    );
    this.byHash.clear();
    for (const r of rows) {
      this.byHash.set(r.id_hash, { idHash: r.id_hash, operator: r.operator, via: r.via === 'token' ? 'token' : 'password', createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) });
    }
  }

  /** A new session; returns the id for the cookie (never stored). */
  async create(operator: string, via: Session['via']): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const now = this.now();
    const session: Session = { idHash: hashToken(id), operator, via, createdAt: now, expiresAt: now + this.ttlMs };
    await this.write(session, false);
    this.byHash.set(session.idHash, session);
    return { id, session };
  }

  /** The live session a cookie's id names, or null (unknown, ended or expired). */
  get(id: string | undefined): Session | null {
    if (!id) return null;
    const s = this.byHash.get(hashToken(id));
    if (!s) return null;
    if (s.expiresAt <= this.now()) {
      this.byHash.delete(s.idHash);
      return null;
    }
    return s;
  }

  async end(session: Session): Promise<void> {
    await this.write(session, true);
    this.byHash.delete(session.idHash);
  }

  /** Ends every session of an operator (removed, or a new password); returns their id hashes. */
  async endAllOf(operator: string): Promise<string[]> {
    const mine = [...this.byHash.values()].filter((s) => s.operator === operator);
    for (const s of mine) await this.end(s);
    return mine.map((s) => s.idHash);
  }

  private async write(s: Session, ended: boolean): Promise<void> {
    this.version = Math.max(this.version + 1, Date.now() * 1000);
    await this.store.insert('console_sessions', [
      { id_hash: s.idHash, operator: s.operator, via: s.via, created_at: s.createdAt, expires_at: s.expiresAt, ended: ended ? 1 : 0, version: this.version },
    ]);
  }
}
