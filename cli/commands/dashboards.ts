// `whistle dashboards export [--out DIR]`: writes the Grafana dashboards (one JSON file each) and
// Grafana provisioning files (ClickHouse datasource + dashboard provider). The datasource points at
// Whistle's ClickHouse server: taken from the config's `store` section when `-c FILE` is given
// (url, username, database), otherwise from the flags (default http://127.0.0.1:8123, database
// whistle). The password is never written; Grafana reads it from WHISTLE_CLICKHOUSE_PASSWORD.
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../app/config.ts';
import type { StoreConfig } from '../../core/config/schema.ts';
import { DEFAULT_DATASOURCE_UID } from '../../dashboards/builder.ts';
import { resultProblems, runDashboard, validateDashboard } from '../../dashboards/check.ts';
import { exportDashboards, type ExportOptions } from '../../dashboards/export.ts';
import { DASHBOARDS, buildAll } from '../../dashboards/index.ts';
import { ChdbStore } from '../../store/chdb-store.ts';
import { ClickHouseStore } from '../../store/clickhouse-store.ts';
import type { Store } from '../../store/store.ts';

interface ExportFlags {
  out: string;
  config?: string;
  url?: URL;
  username?: string;
  database?: string;
  datasourceUid: string;
  dashboardsPath?: string;
  folder: string;
  publicUrl?: string;
}

function clickhouseUrl(v: string): URL {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError('must be a URL like http://clickhouse:8123');
  }
  if (!['http:', 'https:', 'clickhouse:'].includes(u.protocol)) throw new InvalidArgumentError('scheme must be http, https (HTTP interface) or clickhouse (native protocol)');
  return u;
}

function publicUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidArgumentError('must be a URL like https://whistle.example.com');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError('scheme must be http or https');
  return v;
}

function uid(v: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(v)) throw new InvalidArgumentError('must be 1-40 characters of A-Z a-z 0-9 _ -');
  return v;
}

function duration(v: string): number {
  const m = /^(\d+)([mhd])$/.exec(v);
  if (!m) throw new InvalidArgumentError('must be a number of minutes, hours or days, like 30m, 6h, 7d');
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

/** Opens the configured store WITHOUT migrating it: checking must not change the server. */
async function openForReading(cfg: StoreConfig): Promise<Store> {
  if (cfg.kind === 'chdb') return new ChdbStore(cfg.path);
  return ClickHouseStore.connect({ url: cfg.url, username: cfg.username, password: cfg.password, database: cfg.database, requestTimeoutMs: cfg.requestTimeoutMs });
}

/**
 * Runs every dashboard's variable and panel queries on the configured store (All selected, the
 * last `sinceMs`), as Grafana would. Returns the problems; prints a line per dashboard.
 */
export async function checkDashboards(store: Store, sinceMs: number, print: (line: string) => void): Promise<string[]> {
  const problems: string[] = [];
  const to = Date.now();
  for (const d of buildAll()) {
    const found = validateDashboard(d, DEFAULT_DATASOURCE_UID);
    const { results } = await runDashboard(store, d, { from: to - sinceMs, to });
    found.push(...results.flatMap(resultProblems));
    const withData = results.filter((r) => r.rows.length > 0).length;
    print(`${d.uid}: ${results.length} queries, ${results.length - found.length} ok, ${withData} with data${found.length ? `, ${found.length} PROBLEMS` : ''}`);
    problems.push(...found);
  }
  return problems;
}

/** Datasource connection settings from a ClickHouse URL (the form Whistle's store.url uses). */
export function connectionFromUrl(u: URL): Pick<ExportOptions, 'host' | 'port' | 'protocol' | 'secure'> {
  const native = u.protocol === 'clickhouse:';
  const secure = u.protocol === 'https:';
  const port = u.port ? Number(u.port) : native ? 9000 : secure ? 8443 : 8123;
  return { host: u.hostname, port, protocol: native ? 'native' : 'http', secure };
}

export function dashboardsCommand(): Command {
  const cmd = new Command('dashboards').description('Grafana dashboards over Whistle\'s ClickHouse tables');
  cmd.addCommand(
    new Command('list').description('list the dashboards and the tables they read').action(() => {
      for (const d of DASHBOARDS) console.log(`${d.uid.padEnd(22)} ${d.tables.join(', ')}`);
    }),
  );
  cmd.addCommand(
    new Command('check')
      .description("run every dashboard query on Whistle's store (read-only; no Grafana needed) and report failures")
      .requiredOption('-c, --config <file>', 'Whistle config whose store to query')
      .option('--since <duration>', 'time range to query, ending now (30m, 6h, 7d)', duration, 6 * 3_600_000)
      .action(async (flags: { config: string; since: number }) => {
        const cfg = loadConfig(flags.config);
        const store = await openForReading(cfg.store);
        try {
          if (store.dialect === 'legacy') {
            console.error('whistle: the dashboards need the full schema; this ClickHouse server is too old (legacy dialect)');
            process.exitCode = 2;
            return;
          }
          const problems = await checkDashboards(store, flags.since, (l) => console.log(l));
          for (const p of problems) console.error(p);
          if (problems.length) process.exitCode = 1;
        } finally {
          await store.close();
        }
      }),
  );
  cmd.addCommand(
    new Command('export')
      .description('write dashboard JSON files and Grafana provisioning files (datasource, dashboard provider)')
      .option('--out <dir>', 'output directory', './grafana')
      .option('-c, --config <file>', 'take the ClickHouse connection from this Whistle config (store.url, username, database)')
      .option('--url <url>', 'ClickHouse URL for the datasource: http(s)://host:port or clickhouse://host:port (native)', clickhouseUrl)
      .option('--username <name>', 'ClickHouse user for Grafana')
      .option('--database <name>', "Whistle's ClickHouse database")
      .option('--datasource-uid <uid>', 'uid of the datasource the dashboards refer to', uid, DEFAULT_DATASOURCE_UID)
      .option('--dashboards-path <path>', 'where Grafana will read the JSON files (default: OUT/dashboards)')
      .option('--folder <name>', 'Grafana folder', 'Whistle')
      .option('--public-url <url>', "Whistle's address, for links from panels to the console (default: the config's server.publicUrl)", publicUrl)
      .action((flags: ExportFlags) => {
        const cfg = flags.config ? loadConfig(flags.config) : undefined;
        if (cfg && cfg.store.kind !== 'clickhouse') {
          console.error(`whistle: note: ${flags.config} uses store.kind ${cfg.store.kind}; Grafana needs a ClickHouse server, so the datasource uses the store.url setting anyway`);
        }
        const url = flags.url ?? clickhouseUrl(cfg?.store.url ?? 'http://127.0.0.1:8123');
        const opts: ExportOptions = {
          outDir: flags.out,
          datasourceUid: flags.datasourceUid,
          ...connectionFromUrl(url),
          username: flags.username ?? cfg?.store.username ?? 'default',
          database: flags.database ?? cfg?.store.database ?? 'whistle',
          folder: flags.folder,
        };
        if (flags.dashboardsPath) opts.dashboardsPath = flags.dashboardsPath;
        const consoleUrl = flags.publicUrl ?? cfg?.server.publicUrl;
        if (consoleUrl) opts.publicUrl = consoleUrl;
        else console.error('whistle: note: no server.publicUrl (-c FILE) or --public-url: the panels carry no links to the console');
        const result = exportDashboards(opts);
        for (const d of result.dashboards) console.log(`${d.uid}: ${d.title} (${d.panels} panels)`);
        console.log(`wrote ${result.files.length} files under ${flags.out}`);
        console.log('load into Grafana: copy provisioning/* into Grafana\'s provisioning directory, set WHISTLE_CLICKHOUSE_PASSWORD, install grafana-clickhouse-datasource');
      }),
  );
  return cmd;
}
