// A small typed builder for Grafana dashboard JSON (schemaVersion 39) whose panels query the
// official ClickHouse datasource plugin (`grafana-clickhouse-datasource`). Dashboard files describe
// panels (title, SQL, unit, width); `dashboard()` assigns ids and grid positions, so a file never
// juggles coordinates and ids stay unique.
//
// Query model: raw SQL targets in the plugin's v3 shape (`editorType: 'sql'`, `queryType: 'sql'`,
// numeric `format`: 0 time series, 1 table). v3 runs it as is; v4 migrates it on load (its
// migration maps `format` to its own `queryType`), so one JSON works with both.
// SQL may use the plugin's macros and template variables (see dashboards/macros.ts for exactly how
// they expand). Filter on variables as `cluster IN (${cluster:singlequote})`: the singlequote
// format quotes and escapes single and multi values alike.

export const DATASOURCE_TYPE = 'grafana-clickhouse-datasource';
/** The uid the exported provisioning file gives the datasource (override with --datasource-uid). */
export const DEFAULT_DATASOURCE_UID = 'whistle-clickhouse';
export const SCHEMA_VERSION = 39;
const GRID_WIDTH = 24;

export interface DataSourceRef {
  type: string;
  uid: string;
}

export const FORMAT = { timeSeries: 0, table: 1 } as const;
export type QueryFormat = (typeof FORMAT)[keyof typeof FORMAT];

export interface SqlTarget {
  refId: string;
  datasource: DataSourceRef;
  editorType: 'sql';
  queryType: 'sql';
  format: QueryFormat;
  rawSql: string;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Threshold {
  color: string;
  value: number | null;
}

export interface FieldOverride {
  matcher: { id: string; options: string };
  properties: { id: string; value: unknown }[];
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource?: DataSourceRef;
  targets?: SqlTarget[];
  fieldConfig?: { defaults: Record<string, unknown>; overrides: FieldOverride[] };
  options?: Record<string, unknown>;
  transformations?: { id: string; options: Record<string, unknown> }[];
  /** Rows only. */
  collapsed?: boolean;
  panels?: Panel[];
}

export interface VariableOption {
  text: string;
  value: string;
  selected: boolean;
}

export interface QueryVariable {
  type: 'query';
  name: string;
  label: string;
  description?: string;
  datasource: DataSourceRef;
  query: { refId: string; editorType: 'sql'; queryType: 'sql'; format: QueryFormat; rawSql: string };
  definition: string;
  /** 1: on dashboard load, 2: on time range change. */
  refresh: 1 | 2;
  multi: boolean;
  includeAll: boolean;
  sort: number;
  hide: 0 | 1 | 2;
  current: Record<string, unknown>;
  options: VariableOption[];
  regex: string;
}

export interface CustomVariable {
  type: 'custom';
  name: string;
  label: string;
  description?: string;
  /** Comma-separated values, as Grafana stores them. */
  query: string;
  multi: false;
  includeAll: false;
  hide: 0 | 1 | 2;
  current: { text: string; value: string; selected: boolean };
  options: VariableOption[];
}

export type Variable = QueryVariable | CustomVariable;

export interface DashboardLink {
  title: string;
  type: 'dashboards';
  tags: string[];
  asDropdown: boolean;
  includeVars: boolean;
  keepTime: boolean;
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: 'utc';
  schemaVersion: number;
  version: number;
  editable: boolean;
  graphTooltip: 0 | 1 | 2;
  time: { from: string; to: string };
  refresh: string;
  links: DashboardLink[];
  annotations: { list: Record<string, unknown>[] };
  templating: { list: Variable[] };
  panels: Panel[];
}

// ---- panel specs: what a dashboard file writes ------------------------------------------------------

interface BaseSpec {
  title: string;
  description?: string;
  sql: string;
  /** Grid columns out of 24 (default 12). */
  w?: number;
  /** Grid rows (default 8). */
  h?: number;
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  thresholds?: Threshold[];
  overrides?: FieldOverride[];
  /** Column names a test expects the query to return (checked against the real schema). */
  columns?: string[];
}

export interface TimeseriesSpec extends BaseSpec {
  kind: 'timeseries';
  stack?: boolean;
  drawStyle?: 'line' | 'bars' | 'points';
}

export interface TableSpec extends BaseSpec {
  kind: 'table';
  sortBy?: { displayName: string; desc: boolean }[];
}

export interface StatSpec extends BaseSpec {
  kind: 'stat';
  colorMode?: 'value' | 'background' | 'none';
  /** Which reduction Grafana shows when the query returns several rows (default last non-null). */
  reduce?: 'lastNotNull' | 'sum' | 'max';
}

export interface BarGaugeSpec extends BaseSpec {
  kind: 'bargauge';
}

export interface RowSpec {
  kind: 'row';
  title: string;
}

export type PanelSpec = TimeseriesSpec | TableSpec | StatSpec | BarGaugeSpec | RowSpec;

export const timeseries = (s: Omit<TimeseriesSpec, 'kind'>): TimeseriesSpec => ({ kind: 'timeseries', ...s });
export const table = (s: Omit<TableSpec, 'kind'>): TableSpec => ({ kind: 'table', ...s });
export const stat = (s: Omit<StatSpec, 'kind'>): StatSpec => ({ kind: 'stat', ...s });
export const bargauge = (s: Omit<BarGaugeSpec, 'kind'>): BarGaugeSpec => ({ kind: 'bargauge', ...s });
export const row = (title: string): RowSpec => ({ kind: 'row', title });

/** Green below the first step, then each colour from its value up. */
export function steps(...pairs: [number, string][]): Threshold[] {
  return [{ color: 'green', value: null }, ...pairs.map(([value, color]) => ({ color, value }))];
}

/** A table column that links to another dashboard (Grafana data link). */
export function linkColumn(column: string, title: string, url: string): FieldOverride {
  return { matcher: { id: 'byName', options: column }, properties: [{ id: 'links', value: [{ title, url }] }] };
}

/** A table column shown with a unit (durations, bytes). */
export function unitColumn(column: string, unit: string): FieldOverride {
  return { matcher: { id: 'byName', options: column }, properties: [{ id: 'unit', value: unit }] };
}

// ---- variables ----------------------------------------------------------------------------------

export interface QueryVariableSpec {
  name: string;
  label: string;
  description?: string;
  sql: string;
  multi?: boolean;
  includeAll?: boolean;
  refresh?: 1 | 2;
}

export function queryVariable(ds: DataSourceRef, s: QueryVariableSpec): QueryVariable {
  const multi = s.multi ?? false;
  const includeAll = s.includeAll ?? multi;
  const v: QueryVariable = {
    type: 'query',
    name: s.name,
    label: s.label,
    datasource: ds,
    query: { refId: `var-${s.name}`, editorType: 'sql', queryType: 'sql', format: FORMAT.table, rawSql: s.sql },
    definition: s.sql,
    refresh: s.refresh ?? 1,
    multi,
    includeAll,
    sort: 1,
    hide: 0,
    // With All available, start on All; otherwise Grafana picks the first option.
    current: includeAll ? { selected: true, text: ['All'], value: ['$__all'] } : {},
    options: [],
    regex: '',
  };
  if (s.description) v.description = s.description;
  return v;
}

export function customVariable(s: { name: string; label: string; description?: string; values: string[]; current: string }): CustomVariable {
  if (!s.values.includes(s.current)) throw new Error(`variable ${s.name}: current value ${s.current} is not one of its values`);
  const v: CustomVariable = {
    type: 'custom',
    name: s.name,
    label: s.label,
    query: s.values.join(','),
    multi: false,
    includeAll: false,
    hide: 0,
    current: { text: s.current, value: s.current, selected: true },
    options: s.values.map((x) => ({ text: x, value: x, selected: x === s.current })),
  };
  if (s.description) v.description = s.description;
  return v;
}

// ---- assembling a dashboard ---------------------------------------------------------------------

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags?: string[];
  time?: { from: string; to: string };
  refresh?: string;
  variables: Variable[];
  panels: PanelSpec[];
}

function fieldDefaults(s: BaseSpec): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  if (s.unit) d.unit = s.unit;
  if (s.decimals !== undefined) d.decimals = s.decimals;
  if (s.min !== undefined) d.min = s.min;
  if (s.max !== undefined) d.max = s.max;
  d.thresholds = { mode: 'absolute', steps: s.thresholds ?? [{ color: 'green', value: null }] };
  d.color = { mode: s.thresholds ? 'thresholds' : 'palette-classic' };
  return d;
}

function target(ds: DataSourceRef, sql: string, format: QueryFormat): SqlTarget {
  return { refId: 'A', datasource: ds, editorType: 'sql', queryType: 'sql', format, rawSql: sql.trim() };
}

function panelOf(ds: DataSourceRef, s: Exclude<PanelSpec, RowSpec>, id: number, gridPos: GridPos): Panel {
  const base = { id, title: s.title, gridPos, datasource: ds } as Panel;
  if (s.description) base.description = s.description;
  const defaults = fieldDefaults(s);
  const overrides = s.overrides ?? [];
  switch (s.kind) {
    case 'timeseries':
      return {
        ...base,
        type: 'timeseries',
        targets: [target(ds, s.sql, FORMAT.timeSeries)],
        fieldConfig: {
          defaults: {
            ...defaults,
            custom: {
              drawStyle: s.drawStyle ?? 'line',
              lineWidth: 1,
              fillOpacity: s.stack ? 40 : 10,
              showPoints: 'never',
              spanNulls: false,
              stacking: { mode: s.stack ? 'normal' : 'none', group: 'A' },
            },
          },
          overrides,
        },
        options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['lastNotNull', 'max'] }, tooltip: { mode: 'multi', sort: 'desc' } },
      };
    case 'table':
      return {
        ...base,
        type: 'table',
        targets: [target(ds, s.sql, FORMAT.table)],
        fieldConfig: { defaults: { ...defaults, custom: { align: 'auto', filterable: true } }, overrides },
        options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' }, sortBy: s.sortBy ?? [] },
      };
    case 'stat':
      return {
        ...base,
        type: 'stat',
        targets: [target(ds, s.sql, FORMAT.table)],
        fieldConfig: { defaults, overrides },
        options: {
          reduceOptions: { calcs: [s.reduce ?? 'lastNotNull'], fields: '', values: false },
          colorMode: s.colorMode ?? 'value',
          graphMode: 'none',
          justifyMode: 'auto',
          orientation: 'auto',
          textMode: 'auto',
          wideLayout: true,
        },
      };
    case 'bargauge':
      return {
        ...base,
        type: 'bargauge',
        targets: [target(ds, s.sql, FORMAT.table)],
        fieldConfig: { defaults, overrides },
        // One bar per row: the string column names the bar, the numeric column is its length.
        options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: true }, orientation: 'horizontal', displayMode: 'gradient', showUnfilled: true },
      };
  }
}

// What a panel's query is meant to return, kept beside the JSON (Grafana has no field for it).
const expectations = new WeakMap<Panel, string[]>();

/** Column names the panel's spec says its query returns (empty when it did not say). */
export function expectedColumns(p: Panel): string[] {
  return expectations.get(p) ?? [];
}

/**
 * Lays panels out left to right, wrapping at 24 columns; a row starts on its own line. Ids are
 * assigned in order, starting at 1.
 */
export function dashboard(ds: DataSourceRef, spec: DashboardSpec): Dashboard {
  const panels: Panel[] = [];
  let id = 0;
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  const newLine = () => {
    if (x > 0) y += lineHeight;
    x = 0;
    lineHeight = 0;
  };
  for (const s of spec.panels) {
    if (s.kind === 'row') {
      newLine();
      panels.push({ id: ++id, type: 'row', title: s.title, collapsed: false, panels: [], gridPos: { x: 0, y, w: GRID_WIDTH, h: 1 } });
      y += 1;
      continue;
    }
    const w = Math.min(GRID_WIDTH, s.w ?? 12);
    const h = s.h ?? 8;
    if (x + w > GRID_WIDTH) newLine();
    const panel = panelOf(ds, s, ++id, { x, y, w, h });
    if (s.columns) expectations.set(panel, s.columns);
    panels.push(panel);
    x += w;
    lineHeight = Math.max(lineHeight, h);
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['whistle', ...(spec.tags ?? [])],
    timezone: 'utc',
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    editable: true,
    graphTooltip: 1,
    time: spec.time ?? { from: 'now-6h', to: 'now' },
    refresh: spec.refresh ?? '1m',
    links: [{ title: 'Whistle', type: 'dashboards', tags: ['whistle'], asDropdown: true, includeVars: true, keepTime: true }],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: { list: spec.variables },
    panels,
  };
}

/** Every panel with queries, rows' nested panels included. */
export function queryPanels(d: Dashboard): Panel[] {
  return d.panels.flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p])).filter((p) => (p.targets?.length ?? 0) > 0);
}
