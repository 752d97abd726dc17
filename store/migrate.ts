// Versioned schema migrations, applied at start. Each file `NNN_name.sql` is applied once, in order,
// and recorded in `schema_migrations`; every statement is also `IF NOT EXISTS`, so a crash between a
// statement and its record is harmless. Ranges: 001-009 core, 010-019 incidents/notifications,
// 020-029 etcd/remediation, 030-039 Kubernetes ingestion.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Store } from './store.ts';

// Resolved from the package root so it holds both for store/migrate.ts and for the bundle in dist/.
const MIGRATIONS_DIR = fileURLToPath(new URL('../store/migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

export interface MigrationSettings {
  retentionDays: number;
}

/** Only trusted values from validated config are substituted into DDL, never request data. */
function render(sql: string, settings: MigrationSettings): string {
  return sql.replace(/\{\{retention_days\}\}/g, String(Math.trunc(settings.retentionDays)));
}

export function loadMigrations(dialect: Store['dialect'], settings: MigrationSettings, dir = MIGRATIONS_DIR): Migration[] {
  const files = readdirSync(dir).filter((f) => /^\d{3}_.+\.sql$/.test(f));
  const legacyDir = join(dir, 'legacy');
  return files.sort().flatMap((file) => {
    let path = join(dir, file);
    if (dialect === 'legacy') {
      // A migration with no legacy variant is not applied on a legacy server (see README: the full
      // schema lives on chDB and modern servers).
      if (!existsSync(join(legacyDir, file))) return [];
      path = join(legacyDir, file);
    }
    const text = render(readFileSync(path, 'utf8'), settings);
    const statements = text
      .split(/;\s*(?:\n|$)/)
      .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
      .filter((s) => s.length > 0);
    return [{ version: Number(file.slice(0, 3)), name: file.replace(/\.sql$/, ''), statements }];
  });
}

export async function migrate(store: Store, settings: MigrationSettings): Promise<string[]> {
  await store.command(
    store.dialect === 'legacy'
      ? 'CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime, day Date DEFAULT today()) ENGINE = MergeTree(day, (version), 8192)'
      : 'CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime) ENGINE = MergeTree ORDER BY version',
  );
  const done = new Set((await store.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => Number(r.version)));
  const applied: string[] = [];
  for (const m of loadMigrations(store.dialect, settings)) {
    if (done.has(m.version)) continue;
    for (const statement of m.statements) await store.command(statement);
    await store.insert('schema_migrations', [{ version: m.version, name: m.name, applied_at: Math.floor(Date.now() / 1000) }]);
    applied.push(m.name);
  }
  if (store.dialect === 'modern') {
    // Retention comes from config and may change between starts: keep the TTL in step.
    await store.command(`ALTER TABLE samples MODIFY TTL toDateTime(ts) + INTERVAL ${Math.trunc(settings.retentionDays)} DAY`);
  }
  return applied;
}
