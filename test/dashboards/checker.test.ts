// The dashboard checker itself: macro and variable expansion exactly as the plugin and Grafana do
// it, structural validation, and (on a real migrated chDB store) that a broken query is caught:
// an unknown column, an unknown table, a time series without a time column.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dashboard, queryVariable, stat, table, timeseries, type Dashboard } from '../../dashboards/builder.ts';
import { queryProblems, resultProblems, runDashboard, validateDashboard } from '../../dashboards/check.ts';
import { CLUSTER } from '../../dashboards/common.ts';
import { datasourceRef } from '../../dashboards/index.ts';
import { QueryExpansionError, expandQuery, type QueryContext } from '../../dashboards/macros.ts';
import { ChdbStore } from '../../store/chdb-store.ts';
import { migrate } from '../../store/migrate.ts';

const from = Date.UTC(2026, 10, 24, 10, 0, 0, 250);
const to = Date.UTC(2026, 10, 24, 12, 30, 0, 999);
const ctx = (variables: QueryContext['variables'] = {}, intervalMs = 30_000): QueryContext => ({ from, to, intervalMs, variables });
const FROM_S = Math.floor(from / 1000);
const TO_S = Math.floor(to / 1000);

describe('macro and variable expansion', () => {
  it('expands the backend macros like grafana-clickhouse-datasource', () => {
    expect(expandQuery('WHERE $__timeFilter(ts)', ctx())).toBe(`WHERE ts >= toDateTime(${FROM_S}) AND ts <= toDateTime(${TO_S})`);
    expect(expandQuery('WHERE $__timeFilter_ms(ts)', ctx())).toBe(`WHERE ts >= fromUnixTimestamp64Milli(${from}) AND ts <= fromUnixTimestamp64Milli(${to})`);
    expect(expandQuery('$__fromTime $__toTime $__fromTime_ms $__toTime_ms', ctx())).toBe(
      `toDateTime(${FROM_S}) toDateTime(${TO_S}) fromUnixTimestamp64Milli(${from}) fromUnixTimestamp64Milli(${to})`,
    );
    expect(expandQuery('$__dateFilter(d)', ctx())).toBe("d >= toDate('2026-11-24') AND d <= toDate('2026-11-24')");
    expect(expandQuery('$__timeInterval(ts)', ctx())).toBe('toStartOfInterval(toDateTime(ts), INTERVAL 30 second)');
    expect(expandQuery('$__timeInterval_ms(ts)', ctx())).toBe('toStartOfInterval(toDateTime64(ts, 3), INTERVAL 30000 millisecond)');
    expect(expandQuery('INTERVAL $__interval_s second', ctx({}, 200))).toBe('INTERVAL 1 second');
    // Nested parentheses inside a macro argument are kept whole.
    expect(expandQuery('$__timeFilter(toDateTime(ts))', ctx())).toBe(`toDateTime(ts) >= toDateTime(${FROM_S}) AND toDateTime(ts) <= toDateTime(${TO_S})`);
  });

  it('formats variables like Grafana: plugin default, singlequote, All, built-ins', () => {
    const vars = { cluster: { current: ['a', "o'brien"], options: ['a', 'b', "o'brien"] }, node: { current: 'n1', options: ['n1', 'n2'] } };
    // The plugin's own formatter: lists quoted, single values raw.
    expect(expandQuery('IN (${cluster}) AND node = $node', ctx(vars))).toBe("IN ('a','o'brien') AND node = n1");
    expect(expandQuery('IN (${cluster:singlequote}) AND node IN (${node:singlequote})', ctx(vars))).toBe("IN ('a','o\\'brien') AND node IN ('n1')");
    expect(expandQuery('${cluster:sqlstring}', ctx(vars))).toBe("'a','o''brien'");
    const all = { cluster: { current: ['$__all'], options: ['a', 'b'] } };
    expect(expandQuery('IN (${cluster:singlequote})', ctx(all))).toBe("IN ('a','b')");
    expect(expandQuery('$__from $__to $__interval', ctx())).toBe(`${from} ${to} 30s`);
    // Unknown names stay as they are, as in Grafana.
    expect(expandQuery('SELECT $nope', ctx())).toBe('SELECT $nope');
  });

  it('applies $__conditionalAll before the variables, like the plugin frontend', () => {
    const all = { cluster: { current: ['$__all'], options: ['a', 'b'] } };
    const one = { cluster: { current: ['a'], options: ['a', 'b'] } };
    expect(expandQuery(`WHERE ${CLUSTER}`, ctx(all))).toBe('WHERE 1=1');
    expect(expandQuery(`WHERE ${CLUSTER}`, ctx(one))).toBe("WHERE cluster IN ('a')");
    const nested = "$__conditionalAll(id IN (SELECT id FROM t WHERE cluster IN (${cluster:singlequote})), $cluster)";
    expect(expandQuery(nested, ctx(one))).toBe("id IN (SELECT id FROM t WHERE cluster IN ('a'))");
  });

  it('rejects unknown macros and wrong argument counts', () => {
    expect(() => expandQuery('$__timeFilterr(ts)', ctx())).toThrow(QueryExpansionError);
    expect(() => expandQuery('$__timeFilter()', ctx())).toThrow(/expected 1 argument/);
    expect(() => expandQuery('$__timeFilter(a, b)', ctx())).toThrow(/expected 1 argument/);
    expect(() => expandQuery('$__conditionalAll(x = 1)', ctx())).toThrow(/2 arguments/);
  });

  it('flags undefined variables, unknown macros and a misused $__conditionalAll in query text', () => {
    const known = new Set(['cluster']);
    expect(queryProblems('SELECT 1 WHERE $__timeFilter(ts) AND cluster IN (${cluster:singlequote})', known)).toEqual([]);
    expect(queryProblems('WHERE node IN (${node:singlequote})', known)).toEqual(['refers to undefined variable $node']);
    expect(queryProblems('WHERE $__timeFilterr(ts)', known)).toEqual(['unknown macro $__timeFilterr']);
    expect(queryProblems('WHERE $__conditionalAll(cluster IN (${cluster:singlequote}), ${cluster:singlequote})', known)[0]).toMatch(/plain \$variable/);
  });
});

describe('structure validation', () => {
  const ds = datasourceRef();
  const good = (): Dashboard =>
    dashboard(ds, {
      uid: 'test-dash',
      title: 'Test',
      description: '',
      variables: [queryVariable(ds, { name: 'cluster', label: 'Cluster', sql: 'SELECT DISTINCT cluster FROM nodes', multi: true })],
      panels: [stat({ title: 'A', sql: 'SELECT 1 AS a' }), table({ title: 'B', sql: `SELECT cluster FROM nodes WHERE ${CLUSTER}` })],
    });

  it('accepts a well-formed dashboard', () => {
    expect(validateDashboard(good(), ds.uid)).toEqual([]);
  });

  it('finds duplicate ids, overlapping panels, a wrong datasource and an undefined variable', () => {
    const d = good();
    d.panels[1]!.id = d.panels[0]!.id;
    d.panels[1]!.gridPos = { ...d.panels[0]!.gridPos };
    d.panels[0]!.datasource = { type: 'grafana-clickhouse-datasource', uid: 'other' };
    d.panels[1]!.targets![0]!.rawSql = 'SELECT node FROM nodes WHERE node IN (${node:singlequote})';
    const problems = validateDashboard(d, ds.uid);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/duplicate panel id 1/),
        expect.stringMatching(/overlaps panel 1/),
        expect.stringMatching(/panel 1 "A": datasource .* is not/),
        expect.stringMatching(/undefined variable \$node/),
      ]),
    );
    d.panels[0]!.gridPos = { x: 20, y: 0, w: 8, h: 4 };
    expect(validateDashboard(d, ds.uid)).toEqual(expect.arrayContaining([expect.stringMatching(/outside the 24-column grid/)]));
  });
});

describe('queries run on the real schema', () => {
  const dir = mkdtempSync(join(tmpdir(), 'whistle-dash-check-'));
  let store: ChdbStore;
  const ds = datasourceRef();

  beforeAll(async () => {
    store = new ChdbStore(join(dir, 'chdb'));
    await migrate(store, { retentionDays: 30 });
    await store.insert('nodes', [
      { cluster: 'c1', node: 'n1', status: 'authorized', token_hash: 'x', registered_at: from, updated_at: from, updated_by: 'op', address: '', agent_version: '1', version: 1 },
    ]);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  const run = (panels: Parameters<typeof dashboard>[1]['panels']) =>
    runDashboard(
      store,
      dashboard(ds, {
        uid: 'broken',
        title: 'Broken',
        description: '',
        variables: [queryVariable(ds, { name: 'cluster', label: 'Cluster', sql: 'SELECT DISTINCT cluster FROM nodes ORDER BY cluster', multi: true })],
        panels,
      }),
      { from, to },
    );

  it('a correct query passes', async () => {
    const { results, variables } = await run([table({ title: 'ok', sql: `SELECT cluster, node FROM nodes WHERE ${CLUSTER}` })]);
    expect(variables.cluster).toEqual({ current: '$__all', options: ['c1'] });
    expect(results.flatMap(resultProblems)).toEqual([]);
    expect(results[1]!.rows).toEqual([{ cluster: 'c1', node: 'n1' }]);
    expect(results[1]!.columns).toEqual([
      { name: 'cluster', type: 'LowCardinality(String)' },
      { name: 'node', type: 'String' },
    ]);
  });

  it('an unknown column fails the check, naming the panel', async () => {
    const { results } = await run([table({ title: 'typo', sql: `SELECT cluster, nodee FROM nodes WHERE ${CLUSTER}` })]);
    const problems = results.flatMap(resultProblems);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^panel 1 "typo": .*nodee/);
  });

  it('an unknown table, an unknown macro and a time series without a time column fail too', async () => {
    const { results } = await run([
      table({ title: 'no table', sql: 'SELECT * FROM incidents_typo' }),
      table({ title: 'bad macro', sql: 'SELECT 1 WHERE $__timeFilterr(ts)' }),
      timeseries({ title: 'no time', sql: 'SELECT cluster, count() AS n FROM nodes GROUP BY cluster' }),
    ]);
    const problems = results.flatMap(resultProblems);
    expect(problems).toEqual([
      expect.stringMatching(/^panel 1 "no table": .*incidents_typo/),
      expect.stringMatching(/^panel 2 "bad macro": unknown macro \$__timeFilterr/),
      expect.stringMatching(/^panel 3 "no time": a time series query must return a time column first/),
    ]);
  });
});
