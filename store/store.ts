// The one storage interface. Two implementations: embedded chDB (default) and a ClickHouse server
// through @clickhouse/client. SQL is ClickHouse SQL; parameters use ClickHouse's `{name:Type}`
// placeholders and are bound by the engine, never spliced into the text by callers.

export type QueryParams = Record<string, string | number | boolean | null | readonly (string | number)[]>;

export type StoreKind = 'chdb' | 'clickhouse';

export interface Store {
  readonly kind: StoreKind;
  /** 'modern' supports the full schema (Map, DateTime64, TTL); 'legacy' is a pre-19.x server. */
  readonly dialect: 'modern' | 'legacy';
  /** Inserts rows given as objects (JSONEachRow). */
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  /** Inserts pre-encoded JSONEachRow text: the writer's hot path, no re-encoding. */
  insertJsonEachRow(table: string, body: string | Buffer): Promise<void>;
  /** Runs a read query and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: QueryParams): Promise<T[]>;
  /** Runs a statement that returns nothing (DDL, ALTER). */
  command(sql: string, params?: QueryParams): Promise<void>;
  /** True when the store answers. Never throws. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
