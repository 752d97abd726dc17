// `whistle dashboards export`: one JSON file per dashboard plus Grafana provisioning files whose
// datasource uid matches the dashboards' refs; connection taken from flags or a Whistle config.
import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CommanderError } from 'commander';
import { dashboardsCommand } from '../../cli/commands/dashboards.ts';
import { queryPanels, type Dashboard } from '../../dashboards/builder.ts';
import { validateDashboard } from '../../dashboards/check.ts';
import { NODE_LINK_URL } from '../../dashboards/common.ts';
import { buildAll } from '../../dashboards/index.ts';
import { ChdbStore } from '../../store/chdb-store.ts';
import { migrate } from '../../store/migrate.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'whistle-dash-export-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

async function runCli(args: string[]): Promise<{ out: string; err: string }> {
  const cmd = dashboardsCommand();
  const err: string[] = [];
  for (const c of [cmd, ...cmd.commands]) c.exitOverride().configureOutput({ writeErr: (s) => err.push(s), writeOut: () => {} });
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const warn = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    await cmd.parseAsync(args, { from: 'user' });
  } finally {
    log.mockRestore();
    warn.mockRestore();
  }
  return { out: out.join('\n'), err: err.join('') };
}

describe('whistle dashboards export', () => {
  it('writes one JSON per dashboard and the provisioning files', async () => {
    const out = tempDir();
    const { out: printed } = await runCli(['export', '--out', out, '--url', 'https://clickhouse.example:8443', '--database', 'whistle_prod', '--username', 'grafana']);
    expect(printed).toMatch(/wrote 8 files/);
    const files = readdirSync(join(out, 'dashboards')).sort();
    const built = buildAll();
    expect(files).toEqual(built.map((d) => `${d.uid}.json`).sort());
    for (const d of built) {
      const written = JSON.parse(readFileSync(join(out, 'dashboards', `${d.uid}.json`), 'utf8')) as Dashboard;
      expect(written).toEqual(JSON.parse(JSON.stringify(d)));
      expect(written.schemaVersion).toBe(39);
      expect(validateDashboard(written, 'whistle-clickhouse')).toEqual([]);
      for (const p of queryPanels(written)) {
        expect(p.targets![0]).toMatchObject({ editorType: 'sql', queryType: 'sql', datasource: { type: 'grafana-clickhouse-datasource', uid: 'whistle-clickhouse' } });
      }
    }
    const dsYaml = readFileSync(join(out, 'provisioning', 'datasources', 'whistle-clickhouse.yaml'), 'utf8');
    expect(parse(dsYaml)).toEqual({
      apiVersion: 1,
      datasources: [
        {
          name: 'Whistle ClickHouse',
          type: 'grafana-clickhouse-datasource',
          uid: 'whistle-clickhouse',
          editable: true,
          jsonData: { host: 'clickhouse.example', port: 8443, protocol: 'http', secure: true, username: 'grafana', defaultDatabase: 'whistle_prod' },
          secureJsonData: { password: '$WHISTLE_CLICKHOUSE_PASSWORD' },
        },
      ],
    });
    const provider = parse(readFileSync(join(out, 'provisioning', 'dashboards', 'whistle.yaml'), 'utf8')) as { providers: { type: string; folder: string; options: { path: string } }[] };
    expect(provider.providers[0]).toMatchObject({ type: 'file', folder: 'Whistle', options: { path: join(out, 'dashboards') } });
  });

  it('takes the connection from a Whistle config and never writes its password', async () => {
    const out = tempDir();
    const cfg = join(out, 'whistle.yaml');
    writeFileSync(cfg, 'store:\n  kind: clickhouse\n  url: http://ch.internal:8123\n  username: whistle\n  password: s3cret-password\n  database: fleet\n');
    await runCli(['export', '--out', out, '-c', cfg, '--datasource-uid', 'ch-main', '--dashboards-path', '/var/lib/grafana/dashboards/whistle']);
    const dsText = readFileSync(join(out, 'provisioning', 'datasources', 'whistle-clickhouse.yaml'), 'utf8');
    expect(dsText).not.toContain('s3cret-password');
    const ds = (parse(dsText) as { datasources: Record<string, unknown>[] }).datasources[0]!;
    expect(ds).toMatchObject({ uid: 'ch-main', jsonData: { host: 'ch.internal', port: 8123, protocol: 'http', secure: false, username: 'whistle', defaultDatabase: 'fleet' } });
    const fleet = JSON.parse(readFileSync(join(out, 'dashboards', 'whistle-fleet.json'), 'utf8')) as Dashboard;
    expect(validateDashboard(fleet, 'ch-main')).toEqual([]);
    const provider = parse(readFileSync(join(out, 'provisioning', 'dashboards', 'whistle.yaml'), 'utf8')) as { providers: { options: { path: string } }[] };
    expect(provider.providers[0]!.options.path).toBe('/var/lib/grafana/dashboards/whistle');
  });

  it('links cluster and incident cells to the console under the public URL, and has no such links without one', async () => {
    const linksOf = (d: Dashboard, column: string) =>
      queryPanels(d).flatMap((p) => (p.fieldConfig?.overrides ?? []).filter((o) => o.matcher.options === column).flatMap((o) => o.properties.filter((x) => x.id === 'links').flatMap((x) => x.value as { url: string }[])));
    const withUrl = tempDir();
    await runCli(['export', '--out', withUrl, '--public-url', 'https://whistle.example.com/']);
    const read = (dir: string, uid: string) => JSON.parse(readFileSync(join(dir, 'dashboards', `${uid}.json`), 'utf8')) as Dashboard;
    const fleet = read(withUrl, 'whistle-fleet');
    expect(linksOf(fleet, 'cluster').map((l) => l.url)).toContain('https://whistle.example.com/console/clusters/${__value.raw:percentencode}');
    // The node column keeps its link to the node dashboard.
    expect(linksOf(fleet, 'node').map((l) => l.url)).toContain(NODE_LINK_URL);
    const incidents = read(withUrl, 'whistle-incidents');
    const incidentLinks = linksOf(incidents, 'incident_id').map((l) => l.url);
    expect(incidentLinks.length).toBeGreaterThan(0);
    expect(new Set(incidentLinks)).toEqual(new Set(['https://whistle.example.com/console/incidents/${__value.raw:percentencode}']));
    for (const uid of ['whistle-fleet', 'whistle-incidents']) expect(validateDashboard(read(withUrl, uid), 'whistle-clickhouse')).toEqual([]);

    // From the config's server.publicUrl.
    const fromConfig = tempDir();
    const cfg = join(fromConfig, 'whistle.yaml');
    writeFileSync(cfg, 'server: { publicUrl: "https://ops.example.net/whistle" }\n');
    await runCli(['export', '--out', fromConfig, '-c', cfg]);
    expect(new Set(linksOf(read(fromConfig, 'whistle-incidents'), 'incident_id').map((l) => l.url))).toEqual(new Set(['https://ops.example.net/whistle/console/incidents/${__value.raw:percentencode}']));

    const without = tempDir();
    const { err } = await runCli(['export', '--out', without]);
    expect(err).toContain('the panels carry no links to the console');
    for (const f of readdirSync(join(without, 'dashboards'))) expect(readFileSync(join(without, 'dashboards', f), 'utf8')).not.toContain('/console/');
    await expect(runCli(['export', '--out', without, '--public-url', 'ftp://x'])).rejects.toThrow(/--public-url/);
  });

  it('names the bad flag', async () => {
    const out = tempDir();
    await expect(runCli(['export', '--out', out, '--url', 'ftp://x'])).rejects.toThrow(CommanderError);
    await expect(runCli(['export', '--out', out, '--datasource-uid', 'has space'])).rejects.toThrow(/--datasource-uid/);
  });
});

// One chDB directory for this file: migrated here, then opened (and closed) by the command.
describe('whistle dashboards check', () => {
  it('runs every query on the configured store, read-only, and reports a missing table', async () => {
    const dir = tempDir();
    const path = join(dir, 'chdb');
    const store = new ChdbStore(path);
    await migrate(store, { retentionDays: 30 });
    await store.close();
    const cfg = join(dir, 'whistle.yaml');
    writeFileSync(cfg, `store:\n  kind: chdb\n  path: ${path}\n`);

    const ok = await runCli(['check', '-c', cfg, '--since', '2h']);
    expect(ok.out.split('\n')).toHaveLength(6);
    expect(ok.out).not.toMatch(/PROBLEMS/);
    expect(ok.err).toBe('');
    expect(process.exitCode ?? 0).toBe(0);

    const again = new ChdbStore(path);
    await again.command('DROP TABLE kube_events');
    await again.close();
    const broken = await runCli(['check', '-c', cfg]);
    expect(broken.out).toMatch(/whistle-kubernetes: .* PROBLEMS/);
    expect(broken.err).toMatch(/kube_events/);
    expect(process.exitCode).toBe(1);
    process.exitCode = 0;
  });

  it('rejects a bad --since', async () => {
    await expect(runCli(['check', '-c', 'x.yaml', '--since', 'soon'])).rejects.toThrow(/--since/);
  });
});
