// A ClickHouse server reached through @clickhouse/client: the scale-out path. Old servers
// (before 19.11, such as Debian's 18.16) get the "legacy" dialect: no server-side parameters
// (bound by store/legacy-bind.ts instead) and the reduced schema in store/migrations/legacy.
import { Readable } from 'node:stream';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { StoreUnavailableError } from '../core/errors.ts';
import { bindLegacy } from './legacy-bind.ts';
import type { QueryParams, Store } from './store.ts';

export interface ClickHouseStoreOptions {
  url: string;
  username: string;
  password: string;
  database: string;
  requestTimeoutMs: number;
}

/** Errors that mean "the server is not there" rather than "the query is wrong". */
function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code ?? '';
  const msg = String((err as Error).message ?? err);
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|socket hang up|Timeout error|other side closed/i.test(code + ' ' + msg);
}

export class ClickHouseStore implements Store {
  readonly kind = 'clickhouse' as const;
  dialect: 'modern' | 'legacy' = 'modern';
  private client: ClickHouseClient;
  private serverVersion = '';

  private constructor(private readonly opts: ClickHouseStoreOptions) {
    this.client = this.makeClient(opts.database);
  }

  private makeClient(database: string): ClickHouseClient {
    return createClient({
      url: this.opts.url,
      username: this.opts.username,
      password: this.opts.password,
      database,
      request_timeout: this.opts.requestTimeoutMs,
    });
  }

  /** Connects, learns the server version, and creates the database if missing. */
  static async connect(opts: ClickHouseStoreOptions): Promise<ClickHouseStore> {
    const bootstrap = createClient({ url: opts.url, username: opts.username, password: opts.password, request_timeout: opts.requestTimeoutMs });
    try {
      const rs = await bootstrap.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
      const [row] = await rs.json<{ v: string }>();
      await bootstrap.command({ query: `CREATE DATABASE IF NOT EXISTS ${opts.database}` });
      const store = new ClickHouseStore(opts);
      store.serverVersion = row?.v ?? '';
      const [major = 0, minor = 0] = store.serverVersion.split('.').map(Number);
      store.dialect = major < 19 || (major === 19 && minor < 11) ? 'legacy' : 'modern';
      return store;
    } catch (err) {
      throw wrap(err);
    } finally {
      await bootstrap.close();
    }
  }

  get version(): string {
    return this.serverVersion;
  }

  private bind(sql: string, params: QueryParams): { query: string; query_params?: QueryParams } {
    if (this.dialect === 'legacy') return { query: bindLegacy(sql, params) };
    return { query: sql, query_params: params };
  }

  async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
    if (rows.length === 0) return;
    await this.insertJsonEachRow(table, rows.map((r) => JSON.stringify(this.dialect === 'legacy' ? flattenForLegacy(r) : r)).join('\n'));
  }

  async insertJsonEachRow(table: string, body: string | Buffer): Promise<void> {
    if (body.length === 0) return;
    try {
      // Pre-encoded rows go out as the request body as they are; insert() would re-encode them.
      const result = await this.client.exec({
        query: `INSERT INTO ${table} FORMAT JSONEachRow`,
        values: Readable.from([typeof body === 'string' ? Buffer.from(body) : body], { objectMode: false }),
      });
      result.stream.resume();
    } catch (err) {
      throw wrap(err);
    }
  }

  async query<T>(sql: string, params: QueryParams = {}): Promise<T[]> {
    try {
      const rs = await this.client.query({ ...this.bind(sql, params), format: 'JSONEachRow' });
      return await rs.json<T>();
    } catch (err) {
      throw wrap(err);
    }
  }

  async command(sql: string, params: QueryParams = {}): Promise<void> {
    try {
      await this.client.command(this.bind(sql, params));
    } catch (err) {
      throw wrap(err);
    }
  }

  async ping(): Promise<boolean> {
    try {
      const r = await this.client.ping();
      return r.success;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Legacy servers have no Map type: nested objects are stored as JSON text. */
function flattenForLegacy(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = v !== null && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : v;
  return out;
}

function wrap(err: unknown): unknown {
  if (isConnectionError(err)) return new StoreUnavailableError(`ClickHouse server unavailable: ${(err as Error).message}`, { cause: err });
  return err;
}
