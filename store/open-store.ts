// Builds the configured store and brings its schema up to date.
import type { StoreConfig } from '../core/config/schema.ts';
import { ChdbStore } from './chdb-store.ts';
import { ClickHouseStore } from './clickhouse-store.ts';
import { migrate } from './migrate.ts';
import type { Store } from './store.ts';

export async function openStore(cfg: StoreConfig): Promise<Store> {
  const store: Store =
    cfg.kind === 'chdb'
      ? new ChdbStore(cfg.path)
      : await ClickHouseStore.connect({
          url: cfg.url,
          username: cfg.username,
          password: cfg.password,
          database: cfg.database,
          requestTimeoutMs: cfg.requestTimeoutMs,
        });
  await migrate(store, { retentionDays: cfg.retentionDays });
  return store;
}
