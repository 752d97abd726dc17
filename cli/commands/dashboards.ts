// `whistle dashboards export [--out DIR]`: writes the Grafana dashboards (one JSON file each) and
// Grafana provisioning files (ClickHouse datasource + dashboard provider). The datasource points at
// Whistle's ClickHouse server: taken from the config's `store` section when `-c FILE` is given
// (url, username, database), otherwise from the flags (default http://127.0.0.1:8123, database
// whistle). The password is never written; Grafana reads it from WHISTLE_CLICKHOUSE_PASSWORD.
import { Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../../core/config/load.ts';
import { DEFAULT_DATASOURCE_UID } from '../../dashboards/builder.ts';
import { exportDashboards, type ExportOptions } from '../../dashboards/export.ts';
import { DASHBOARDS } from '../../dashboards/index.ts';

interface ExportFlags {
  out: string;
  config?: string;
  url?: URL;
  username?: string;
  database?: string;
  datasourceUid: string;
  dashboardsPath?: string;
  folder: string;
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

function uid(v: string): string {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(v)) throw new InvalidArgumentError('must be 1-40 characters of A-Z a-z 0-9 _ -');
  return v;
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
        const result = exportDashboards(opts);
        for (const d of result.dashboards) console.log(`${d.uid}: ${d.title} (${d.panels} panels)`);
        console.log(`wrote ${result.files.length} files under ${flags.out}`);
        console.log('load into Grafana: copy provisioning/* into Grafana\'s provisioning directory, set WHISTLE_CLICKHOUSE_PASSWORD, install grafana-clickhouse-datasource');
      }),
  );
  return cmd;
}
