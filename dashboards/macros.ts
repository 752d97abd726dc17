// Expands a panel's SQL the way Grafana and the ClickHouse datasource plugin do before the query
// reaches ClickHouse, so tests can run every panel's query on the real schema. Three passes, in the
// plugin's order:
//
// 1. `$__conditionalAll(condition, $var)` (plugin frontend, before variables): replaced by `1=1`
//    when `$var` is set to All (or empty), otherwise by the condition. The second argument must be
//    the plain `$var` form: the plugin's lookup does not recognise `${var:format}` there.
// 2. Template variables (Grafana's templateSrv): `$var`, `${var}`, `${var:format}`, `[[var]]`.
//    With no format the plugin's own formatter applies: a list becomes `'a','b'` and a single value
//    is inserted RAW (unquoted). Hence dashboards write `${var:singlequote}`, which quotes (and
//    escapes `'`) single and multi values alike. All expands to every option of the variable.
//    Built-ins: $__from / $__to (epoch ms), $__interval (e.g. 30s), $__interval_ms, $__range_s,
//    $__range_ms. A name Grafana does not know is left as is (the query then fails in ClickHouse).
// 3. Macros (plugin backend, grafana/sqlds), from the time range and the panel's interval:
//    $__timeFilter(col)      col >= toDateTime(FROM_S) AND col <= toDateTime(TO_S)
//    $__timeFilter_ms(col)   col >= fromUnixTimestamp64Milli(FROM_MS) AND col <= fromUnixTimestamp64Milli(TO_MS)
//    $__dateFilter(col)      col >= toDate('YYYY-MM-DD') AND col <= toDate('YYYY-MM-DD')
//    $__dateTimeFilter(d, t) / $__dt(d, t)   both of the above, for a date and a time column
//    $__fromTime, $__toTime                  toDateTime(S)
//    $__fromTime_ms, $__toTime_ms            fromUnixTimestamp64Milli(MS)
//    $__timeInterval(col)    toStartOfInterval(toDateTime(col), INTERVAL N second)
//    $__timeInterval_ms(col) toStartOfInterval(toDateTime64(col, 3), INTERVAL N millisecond)
//    $__interval_s           N: the interval in whole seconds, at least 1
//    Times are UTC; seconds are truncated like Go's Time.Unix(). Unlike the plugin (which leaves an
//    unknown `$__name` for ClickHouse to reject), an unknown macro or a wrong argument count throws
//    here, with the macro's name.

export class QueryExpansionError extends Error {
  override name = 'QueryExpansionError';
}

export interface VariableState {
  /** The selection: one value, a list (multi-value), or '$__all' / ['$__all'] for All. */
  current: string | string[];
  /** Every option the variable offers (what All expands to). */
  options: string[];
}

export interface QueryContext {
  /** Time range, epoch ms. */
  from: number;
  to: number;
  /** The panel's interval (Grafana derives it from the range and the panel width). */
  intervalMs: number;
  variables: Record<string, VariableState>;
}

const ALL = '$__all';

/** Grafana's template variable syntax (templateSrv's variableRegex). */
const VARIABLE_RE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

export const BUILTIN_VARIABLES: ReadonlySet<string> = new Set(['__from', '__to', '__interval', '__interval_ms', '__range_s', '__range_ms']);

export const MACROS: Record<string, { args: number; expand: (args: string[], ctx: QueryContext) => string }> = {
  timeFilter: { args: 1, expand: ([c], x) => `${c} >= ${dateTime(x.from)} AND ${c} <= ${dateTime(x.to)}` },
  timeFilter_ms: { args: 1, expand: ([c], x) => `${c} >= ${dateTime64(x.from)} AND ${c} <= ${dateTime64(x.to)}` },
  dateFilter: { args: 1, expand: ([c], x) => `${c} >= ${date(x.from)} AND ${c} <= ${date(x.to)}` },
  dateTimeFilter: { args: 2, expand: (a, x) => dateTimeFilter(a, x) },
  dt: { args: 2, expand: (a, x) => dateTimeFilter(a, x) },
  fromTime: { args: 0, expand: (_, x) => dateTime(x.from) },
  toTime: { args: 0, expand: (_, x) => dateTime(x.to) },
  fromTime_ms: { args: 0, expand: (_, x) => dateTime64(x.from) },
  toTime_ms: { args: 0, expand: (_, x) => dateTime64(x.to) },
  timeInterval: { args: 1, expand: ([c], x) => `toStartOfInterval(toDateTime(${c}), INTERVAL ${intervalSeconds(x)} second)` },
  timeInterval_ms: { args: 1, expand: ([c], x) => `toStartOfInterval(toDateTime64(${c}, 3), INTERVAL ${Math.max(1, Math.trunc(x.intervalMs))} millisecond)` },
  interval_s: { args: 0, expand: (_, x) => String(intervalSeconds(x)) },
};

const seconds = (ms: number) => Math.floor(ms / 1000);
const dateTime = (ms: number) => `toDateTime(${seconds(ms)})`;
const dateTime64 = (ms: number) => `fromUnixTimestamp64Milli(${Math.trunc(ms)})`;
const date = (ms: number) => `toDate('${new Date(ms).toISOString().slice(0, 10)}')`;
const intervalSeconds = (x: QueryContext) => Math.max(1, Math.trunc(x.intervalMs / 1000));
function dateTimeFilter([d, t]: string[], x: QueryContext): string {
  return `(${d} >= ${date(x.from)} AND ${d} <= ${date(x.to)}) AND (${t} >= ${dateTime(x.from)} AND ${t} <= ${dateTime(x.to)})`;
}

/**
 * The arguments of a call whose opening parenthesis is at `open`: split on top-level commas,
 * nested parentheses kept. Returns the raw (untrimmed) arguments and the index after `)`.
 */
function callArgs(text: string, open: number): { args: string[]; end: number } | null {
  let depth = 0;
  let start = open + 1;
  const args: string[] = [];
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') {
      depth--;
      if (depth === 0) {
        args.push(text.slice(start, i));
        return { args, end: i + 1 };
      }
    } else if (ch === ',' && depth === 1) {
      args.push(text.slice(start, i));
      start = i + 1;
    }
  }
  return null;
}

function isAll(v: VariableState | undefined): boolean {
  if (!v) return false;
  const c = Array.isArray(v.current) ? v.current : [v.current];
  return c.length === 0 || (c.length === 1 && (c[0] === ALL || c[0] === ''));
}

/** Pass 1: the plugin's $__conditionalAll, innermost-last like the plugin (it scans from the end). */
export function applyConditionalAll(sql: string, variables: Record<string, VariableState>): string {
  const macro = '$__conditionalAll(';
  let out = sql;
  let at = out.lastIndexOf(macro);
  while (at !== -1) {
    const call = callArgs(out, at + macro.length - 1);
    if (!call || call.args.length !== 2) throw new QueryExpansionError(`$__conditionalAll needs 2 arguments (condition, $variable) at offset ${at}`);
    const [condition, ref] = call.args as [string, string];
    const name = /(?<=\$\{)\w+(?=\})|(?<=\$)\w+/.exec(ref.trim())?.[0];
    if (!name) throw new QueryExpansionError(`$__conditionalAll: second argument must be $variable, got "${ref.trim()}"`);
    out = out.slice(0, at) + (isAll(variables[name]) ? '1=1' : condition) + out.slice(call.end);
    at = out.lastIndexOf(macro);
  }
  return out;
}

function formatValue(value: string | string[], format: string | undefined, variable: string): string {
  const list = Array.isArray(value) ? value : null;
  switch (format) {
    case undefined:
      // The plugin's formatter: lists quoted and joined, a single value raw.
      return list ? `'${list.join("','")}'` : (value as string);
    case 'singlequote': {
      const q = (v: string) => `'${v.replace(/'/g, "\\'")}'`;
      return list ? list.map(q).join(',') : q(value as string);
    }
    case 'doublequote': {
      const q = (v: string) => `"${v.replace(/"/g, '\\"')}"`;
      return list ? list.map(q).join(',') : q(value as string);
    }
    case 'sqlstring': {
      const q = (v: string) => `'${v.replace(/'/g, "''")}'`;
      return list ? list.map(q).join(',') : q(value as string);
    }
    case 'csv':
      return list ? list.join(',') : (value as string);
    case 'raw':
      return list ? list.join(',') : (value as string);
    default:
      throw new QueryExpansionError(`variable ${variable}: format "${format}" is not supported by this checker`);
  }
}

function builtin(name: string, x: QueryContext): string {
  const intervalS = Math.max(1, Math.round(x.intervalMs / 1000));
  switch (name) {
    case '__from':
      return String(Math.trunc(x.from));
    case '__to':
      return String(Math.trunc(x.to));
    case '__interval':
      return x.intervalMs < 1000 ? `${Math.trunc(x.intervalMs)}ms` : `${intervalS}s`;
    case '__interval_ms':
      return String(Math.trunc(x.intervalMs));
    case '__range_s':
      return String(seconds(x.to - x.from));
    default:
      return String(Math.trunc(x.to - x.from));
  }
}

/** Pass 2: template variables. Unknown names are left untouched, as Grafana does. */
export function applyVariables(sql: string, x: QueryContext): string {
  return sql.replace(VARIABLE_RE, (match, plain?: string, bracket?: string, bracketFmt?: string, braced?: string, _field?: string, bracedFmt?: string) => {
    const name = (plain ?? bracket ?? braced)!;
    const format = bracketFmt ?? bracedFmt;
    if (BUILTIN_VARIABLES.has(name)) return builtin(name, x);
    const v = x.variables[name];
    if (!v) return match;
    const value = isAll(v) ? v.options : v.current;
    return formatValue(value, format, name);
  });
}

/** Pass 3: the backend's macros. */
export function applyMacros(sql: string, x: QueryContext): string {
  let out = '';
  let i = 0;
  const re = /\$__(\w+)/g;
  for (let m = re.exec(sql); m; m = re.exec(sql)) {
    const name = m[1]!;
    const def = MACROS[name];
    if (!def) throw new QueryExpansionError(`unknown macro $__${name}`);
    let end = m.index + m[0].length;
    let args: string[] = [];
    if (sql[end] === '(') {
      const call = callArgs(sql, end);
      if (!call) throw new QueryExpansionError(`$__${name}: unclosed parenthesis`);
      args = call.args.map((a) => a.trim()).filter((a, k, all) => !(all.length === 1 && a === ''));
      end = call.end;
    }
    if (args.length !== def.args) throw new QueryExpansionError(`$__${name}: expected ${def.args} argument(s), got ${args.length}`);
    out += sql.slice(i, m.index) + def.expand(args, x);
    i = end;
    re.lastIndex = end;
  }
  return out + sql.slice(i);
}

/** The SQL ClickHouse receives for `rawSql` in context `x`. */
export function expandQuery(rawSql: string, x: QueryContext): string {
  return applyMacros(applyVariables(applyConditionalAll(rawSql, x.variables), x), x);
}

/** Names of the template variables a query refers to (built-ins and macros left out). */
export function referencedVariables(rawSql: string): string[] {
  const names = new Set<string>();
  for (const m of rawSql.matchAll(VARIABLE_RE)) {
    const name = (m[1] ?? m[2] ?? m[4])!;
    if (BUILTIN_VARIABLES.has(name)) continue;
    if (name.startsWith('__') && (MACROS[name.slice(2)] || name === '__conditionalAll')) continue;
    names.add(name);
  }
  return [...names];
}
