// Checks a dashboard the way Grafana would meet it: the JSON structure (ids, grid, datasource refs,
// variables), then every variable and panel query expanded (dashboards/macros.ts) and run on a
// real ClickHouse store with Whistle's schema. Used by the dashboard tests; nothing here needs
// Grafana.
import type { Store } from '../store/store.ts';
import { DATASOURCE_TYPE, FORMAT, type Dashboard, type Panel, type Variable } from './builder.ts';
import { BUILTIN_VARIABLES, MACROS, expandQuery, referencedVariables, type QueryContext, type VariableState } from './macros.ts';

const GRID_WIDTH = 24;

function allPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

function variableSql(v: Variable): string | null {
  return v.type === 'query' ? v.query.rawSql : null;
}

/** Structural problems, each naming the dashboard and panel or variable. Empty when valid. */
export function validateDashboard(d: Dashboard, datasourceUid: string): string[] {
  const problems: string[] = [];
  const at = (what: string) => `${d.uid}: ${what}`;
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(d.uid)) problems.push(at(`uid "${d.uid}" must be 1-40 characters of [A-Za-z0-9_-]`));
  if (!d.title) problems.push(at('title is empty'));

  const ids = new Set<number>();
  const titles = new Set<string>();
  const cells: { p: Panel; x0: number; x1: number; y0: number; y1: number }[] = [];
  for (const p of allPanels(d)) {
    const where = `panel ${p.id} "${p.title}"`;
    if (!Number.isInteger(p.id) || p.id < 1) problems.push(at(`${where}: id must be a positive integer`));
    if (ids.has(p.id)) problems.push(at(`${where}: duplicate panel id ${p.id}`));
    ids.add(p.id);
    if (!p.title) problems.push(at(`panel ${p.id}: title is empty`));
    if (titles.has(p.title)) problems.push(at(`${where}: another panel has the same title`));
    titles.add(p.title);
    const g = p.gridPos;
    const ints = [g.x, g.y, g.w, g.h].every((n) => Number.isInteger(n));
    if (!ints || g.x < 0 || g.y < 0 || g.w < 1 || g.h < 1 || g.x + g.w > GRID_WIDTH) {
      problems.push(at(`${where}: gridPos ${JSON.stringify(g)} is outside the 24-column grid`));
    }
    for (const c of cells) {
      if (g.x < c.x1 && c.x0 < g.x + g.w && g.y < c.y1 && c.y0 < g.y + g.h) problems.push(at(`${where}: overlaps panel ${c.p.id} "${c.p.title}"`));
    }
    cells.push({ p, x0: g.x, x1: g.x + g.w, y0: g.y, y1: g.y + g.h });
    if (p.type === 'row') continue;
    if (!p.targets?.length) {
      problems.push(at(`${where}: has no query`));
      continue;
    }
    if (p.datasource?.type !== DATASOURCE_TYPE || p.datasource.uid !== datasourceUid) {
      problems.push(at(`${where}: datasource ${JSON.stringify(p.datasource)} is not {type: ${DATASOURCE_TYPE}, uid: ${datasourceUid}}`));
    }
    const refIds = new Set<string>();
    for (const t of p.targets) {
      if (refIds.has(t.refId)) problems.push(at(`${where}: duplicate refId ${t.refId}`));
      refIds.add(t.refId);
      if (t.datasource.type !== DATASOURCE_TYPE || t.datasource.uid !== datasourceUid) problems.push(at(`${where}: target ${t.refId} datasource differs from the panel's`));
      if (!t.rawSql.trim()) problems.push(at(`${where}: target ${t.refId} has no SQL`));
      if (t.format !== FORMAT.table && t.format !== FORMAT.timeSeries) problems.push(at(`${where}: target ${t.refId} format ${String(t.format)} is neither table nor time series`));
      if (p.type === 'timeseries' && t.format !== FORMAT.timeSeries) problems.push(at(`${where}: a time series panel needs format time series`));
    }
  }

  const names = new Set<string>();
  for (const v of d.templating.list) {
    if (names.has(v.name)) problems.push(at(`variable ${v.name} is defined twice`));
    if (!/^\w+$/.test(v.name)) problems.push(at(`variable name "${v.name}" must be letters, digits and _`));
    if (v.type === 'query' && (v.datasource.type !== DATASOURCE_TYPE || v.datasource.uid !== datasourceUid)) problems.push(at(`variable ${v.name}: wrong datasource`));
    const sql = variableSql(v);
    // A variable's query may only use variables defined before it (Grafana resolves them in order).
    if (sql !== null) problems.push(...queryProblems(sql, names).map((m) => at(`variable ${v.name}: ${m}`)));
    names.add(v.name);
  }
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) problems.push(...queryProblems(t.rawSql, names).map((m) => at(`panel ${p.id} "${p.title}": ${m}`)));
  }
  return problems;
}

/** Problems in a query's text: unknown variables, unknown macros, a misused $__conditionalAll. */
export function queryProblems(sql: string, variables: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const name of referencedVariables(sql)) {
    if (name.startsWith('__')) problems.push(`unknown macro $${name}`);
    else if (!variables.has(name)) problems.push(`refers to undefined variable $${name}`);
  }
  for (const m of sql.matchAll(/\$__conditionalAll\(/g)) {
    const tail = sql.slice(m.index);
    if (!/^\$__conditionalAll\([^]*?,\s*\$\w+\s*\)/.test(tail)) problems.push(`$__conditionalAll at offset ${m.index}: second argument must be a plain $variable`);
  }
  for (const m of sql.matchAll(/\$__(\w+)/g)) {
    if (m[1] !== 'conditionalAll' && !MACROS[m[1]!] && !BUILTIN_VARIABLES.has(`__${m[1]}`)) problems.push(`unknown macro $__${m[1]}`);
  }
  return [...new Set(problems)];
}

export interface ColumnInfo {
  name: string;
  type: string;
}

export interface QueryResult {
  /** `panel N "title"` or `variable name`. */
  source: string;
  panel?: Panel;
  sql: string;
  rows: Record<string, unknown>[];
  columns: ColumnInfo[];
  error?: string;
}

export interface RunOptions {
  from: number;
  to: number;
  intervalMs?: number;
  /** Variable selections; a variable not listed takes All when it has it, else its first option. */
  selections?: Record<string, string | string[]>;
}

async function run(store: Store, source: string, sql: string, panel?: Panel): Promise<QueryResult> {
  const result: QueryResult = { source, sql, rows: [], columns: [] };
  if (panel) result.panel = panel;
  try {
    result.rows = await store.query<Record<string, unknown>>(sql);
    // DESCRIBE gives names and types even when the query returns no rows.
    result.columns = (await store.query<{ name: string; type: string }>(`DESCRIBE (${sql})`)).map((c) => ({ name: c.name, type: c.type }));
  } catch (err) {
    result.error = (err as Error).message.split('\n')[0]!.slice(0, 600);
  }
  return result;
}

/**
 * Resolves the variables in order (running their queries), then runs every panel query with
 * them. Query errors are returned per query, not thrown.
 */
export async function runDashboard(store: Store, d: Dashboard, opts: RunOptions): Promise<{ variables: Record<string, VariableState>; results: QueryResult[] }> {
  const ctx: QueryContext = { from: opts.from, to: opts.to, intervalMs: opts.intervalMs ?? Math.max(1000, Math.floor((opts.to - opts.from) / 1000)), variables: {} };
  const results: QueryResult[] = [];
  for (const v of d.templating.list) {
    let options: string[];
    if (v.type === 'custom') {
      options = v.query.split(',').map((s) => s.trim());
    } else {
      const sql = expandQuery(v.query.rawSql, ctx);
      const r = await run(store, `variable ${v.name}`, sql);
      results.push(r);
      // Like the plugin: one column is text and value; with two, the first is the value.
      options = r.rows.map((row) => String(Object.values(row)[0]));
    }
    const chosen = opts.selections?.[v.name];
    const fallback = v.includeAll ? '$__all' : (v.type === 'custom' ? v.current.value : (options[0] ?? ''));
    const current = chosen ?? fallback;
    ctx.variables[v.name] = { current: v.multi && typeof current === 'string' && current !== '$__all' ? [current] : current, options };
  }
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      const source = `panel ${p.id} "${p.title}"`;
      let sql: string;
      try {
        sql = expandQuery(t.rawSql, ctx);
      } catch (err) {
        results.push({ source, panel: p, sql: t.rawSql, rows: [], columns: [], error: (err as Error).message });
        continue;
      }
      results.push(await run(store, source, sql, p));
    }
  }
  return { variables: ctx.variables, results };
}

/** Problems with a panel's result: query errors, time series without a leading time column. */
export function resultProblems(r: QueryResult): string[] {
  if (r.error) return [`${r.source}: ${r.error}`];
  const problems: string[] = [];
  const format = r.panel?.targets?.[0]?.format;
  if (format === FORMAT.timeSeries) {
    const first = r.columns[0];
    if (!first || !/^(Nullable\()?(DateTime|Date)/.test(first.type)) problems.push(`${r.source}: a time series query must return a time column first (got ${first ? `${first.name} ${first.type}` : 'nothing'})`);
    if (!r.columns.slice(1).some((c) => /Int|Float|Decimal/.test(c.type))) problems.push(`${r.source}: a time series query needs a numeric column`);
  }
  return problems;
}
