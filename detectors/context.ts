// Typed queries over the samples table for one cluster (the `telemetry` of a DetectorContext).
// Every query aggregates in ClickHouse and serves all nodes of the cluster at once; no per-node loops.
// SQL text is fixed; values (cluster, names, label keys and values, times) travel as bound
// `{name:Type}` parameters, never spliced into the text.
//
// `series` is incremental: bucket sums and counts are kept in memory and each call reads only the
// samples that arrived since the previous one (plus a backward warm-up chunk until the window is
// filled), so a 6 h fit costs about as much as a 10 s read. Samples that arrive later than
// `latenessMs` after their timestamp miss their bucket (they still count for `latest`).
import type { Labels } from '../core/types.ts';
import type { Store } from '../store/store.ts';
import type { LabelFilter, LatestQuery, LatestRow, RatioQuery, RatioRow, SeriesPoint, SeriesQuery, SeriesRow, TelemetryQueries } from './api.ts';

type Params = Record<string, string | number | readonly (string | number)[]>;

export interface TelemetryOptions {
  /** Samples younger than this are not yet folded into series buckets (they may still be in flight). */
  latenessMs: number;
  /** How much older history each call loads while a series window is still warming up. */
  warmupChunkMs: number;
  /**
   * Nodes are split into this many partitions (by a hash of the name) and each call folds the new
   * samples of one partition into the trend buckets, round robin: every tick reads and parses a
   * slice rather than one tick in N reading everything. A closed bucket shows up within N calls.
   */
  foldPartitions: number;
  /** Called after every query (benchmarks: where a tick's time goes). */
  onQuery?: (label: string, ms: number, rows: number) => void;
}

const DEFAULTS: TelemetryOptions = { latenessMs: 15_000, warmupChunkMs: 10 * 60_000, foldPartitions: 6 };

/** SQL fragments for a label filter; parameter names are generated, values are bound. */
function filterSql(f: LabelFilter, params: Params): string {
  const parts: string[] = [];
  let i = 0;
  for (const [op, set] of [
    ['IN', f.match],
    ['NOT IN', f.exclude],
  ] as const) {
    for (const [key, values] of Object.entries(set ?? {})) {
      params[`lk${i}`] = key;
      params[`lv${i}`] = [...values];
      parts.push(`labels[{lk${i}:String}] ${op} {lv${i}:Array(String)}`);
      i++;
    }
  }
  return parts.length ? ` AND ${parts.join(' AND ')}` : '';
}

/**
 * `[labels[{lk_0:String}], ...]`: the values of the named labels as an array (keys bound). Spelled
 * out rather than `arrayMap(k -> labels[k], keys)`, which evaluates a lambda per row and is several
 * times slower.
 */
function labelArraySql(keys: readonly string[], params: Params): string {
  return `[${keys
    .map((k, i) => {
      params[`lk_${i}`] = k;
      return `labels[{lk_${i}:String}]`;
    })
    .join(', ')}]::Array(String)`;
}

function keepSql(q: LatestQuery, params: Params): string {
  const parts: string[] = [];
  if (q.keep?.atMost !== undefined) {
    params.keep_max = q.keep.atMost;
    parts.push('argMax(value, ts) <= {keep_max:Float64}');
  }
  if (q.keep?.atLeast !== undefined) {
    params.keep_min = q.keep.atLeast;
    parts.push('argMax(value, ts) >= {keep_min:Float64}');
  }
  return parts.length ? `\n         HAVING ${parts.join(' AND ')}` : '';
}

function labelsOf(keys: readonly string[] | undefined, lv: unknown): Labels {
  if (!keys) return (lv ?? {}) as Labels;
  const values = lv as string[];
  const out: Labels = {};
  keys.forEach((k, i) => {
    out[k] = values[i] ?? '';
  });
  return out;
}

interface Bucket {
  sum: number;
  count: number;
}

interface SeriesEntry {
  /** Fold partition of the node. */
  p: number;
  node: string;
  name: string;
  labels: Labels;
  buckets: Map<number, Bucket>;
  /** Closed buckets as points, rebuilt only when a closed bucket changes or another bucket closes. */
  points: readonly SeriesPoint[];
  builtFor: number;
  dirty: boolean;
  row?: SeriesRow;
}

interface SeriesState {
  /** Per fold partition: samples with ts < pwm[p] (and >= filledFrom) are folded into buckets. */
  pwm: number[];
  /** The partition the next call folds. */
  next: number;
  /** The window's first bucket at the previous call (eviction runs when it moves). */
  firstBucket: number;
  filledFrom: number;
  entries: Map<string, SeriesEntry>;
  /** Reads of one state run one at a time: two concurrent folds of the same range would double-count. */
  lock: Promise<unknown>;
}

/**
 * Telemetry of one cluster. The engine keeps one per cluster for the life of the process (series
 * buckets live here) and hands detectors a view bound to the tick's time (`at(now)`).
 */
interface LatestState {
  /** The `now` of the previous read: samples up to it (minus the lateness) have been seen. */
  wm: number;
  entries: Map<string, LatestRow>;
  lock: Promise<unknown>;
}

export class SqlTelemetry {
  private readonly seriesStates = new Map<string, SeriesState>();
  private readonly latestStates = new Map<string, LatestState>();
  private readonly seen = { wm: Number.NEGATIVE_INFINITY, last: new Map<string, number>(), lookedUp: new Set<string>(), lock: Promise.resolve() as Promise<unknown> };
  private readonly opts: TelemetryOptions;

  constructor(
    private readonly store: Store,
    readonly cluster: string,
    opts: Partial<TelemetryOptions> = {},
  ) {
    this.opts = { ...DEFAULTS, ...opts };
  }

  at(now: number): TelemetryQueries {
    return {
      latest: (q) => this.latest(now, q),
      series: (q) => this.series(now, q),
      ratioAbove: (q) => this.ratioAbove(now, q),
      lastSeen: (q) => this.lastSeen(now, q),
      sql: (sql, params) => this.sql(sql, params),
    };
  }

  /**
   * Incremental like `series`: the newest row per series is kept between ticks, and each call reads
   * only what arrived since the previous one (from `latenessMs` before it, for samples in flight).
   * The first call for a query reads its whole window.
   */
  async latest(now: number, q: LatestQuery): Promise<LatestRow[]> {
    if (q.keep) {
      // Filtered: not cacheable (a series leaving the bounds would linger), read the window whole.
      const st: LatestState = { wm: Number.NEGATIVE_INFINITY, entries: new Map(), lock: Promise.resolve() };
      return this.latestLocked(now, q, st);
    }
    const key = JSON.stringify([q.names, q.labelKeys ?? null, q.windowMs, q.match ?? {}, q.exclude ?? {}]);
    let st = this.latestStates.get(key);
    if (!st) {
      st = { wm: Number.NEGATIVE_INFINITY, entries: new Map(), lock: Promise.resolve() };
      this.latestStates.set(key, st);
    }
    const state = st;
    const run = state.lock.then(() => this.latestLocked(now, q, state));
    state.lock = run.catch(() => {});
    return run;
  }

  private async latestLocked(now: number, q: LatestQuery, st: LatestState): Promise<LatestRow[]> {
    const windowStart = now - q.windowMs;
    const from = Math.max(windowStart, st.wm - this.opts.latenessMs);
    if (from <= now) {
      const params: Params = { cluster: this.cluster, names: [...q.names], from, to: now };
      // Named labels: group by a hash of their values (cheaper than grouping by the array itself).
      const [lv, group] = q.labelKeys ? [`any(${labelArraySql(q.labelKeys, params)})`, `cityHash64(${labelArraySql(q.labelKeys, params)})`] : ['labels', 'labels'];
      // Times come back as small offsets from `to` (Int32, unquoted) rather than 64-bit epochs
      // (quoted in JSON): a tick parses tens of thousands of these rows.
      const rows = await this.run<{ node: string; name: string; lv: unknown; v: number; last: number; first: number; up: number; has_up: number }>(
        `latest:${q.names[0]}`,
        `SELECT node, name, ${lv} AS lv, argMax(value, ts) AS v,
                toInt32(toUnixTimestamp64Milli(max(ts)) - {to:Int64}) AS last, toInt32(toUnixTimestamp64Milli(min(ts)) - {to:Int64}) AS first,
                toInt32(toUnixTimestamp64Milli(maxIf(ts, value > 0)) - {to:Int64}) AS up, toUInt8(countIf(value > 0) > 0) AS has_up
         FROM samples
         WHERE cluster = {cluster:String} AND name IN {names:Array(String)}
           AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts <= fromUnixTimestamp64Milli({to:Int64})${filterSql(q, params)}
         GROUP BY node, name, ${group}${keepSql(q, params)}`,
        params,
      );
      for (const r of rows) {
        const k = q.labelKeys ? `${r.node}\u0000${r.name}\u0000${(r.lv as string[]).join('\u0000')}` : `${r.node}\u0000${r.name}\u0000${JSON.stringify(r.lv)}`;
        const ts = now + r.last;
        const up = r.has_up ? now + r.up : null;
        const e = st.entries.get(k);
        if (!e) {
          st.entries.set(k, { node: r.node, name: r.name, labels: labelsOf(q.labelKeys, r.lv), value: Number(r.v), ts, lastNonZeroTs: up, firstTs: now + r.first });
          continue;
        }
        if (ts >= e.ts) {
          e.value = Number(r.v);
          e.ts = ts;
        }
        if (up !== null && (e.lastNonZeroTs === null || up > e.lastNonZeroTs)) e.lastNonZeroTs = up;
        e.firstTs = Math.min(e.firstTs, now + r.first);
      }
      st.wm = Math.max(st.wm, now);
    }
    const out: LatestRow[] = [];
    for (const [k, e] of st.entries) {
      if (e.ts < windowStart) {
        st.entries.delete(k);
        continue;
      }
      if (e.ts > now) continue;
      out.push({
        ...e,
        lastNonZeroTs: e.lastNonZeroTs !== null && e.lastNonZeroTs >= windowStart ? e.lastNonZeroTs : null,
        firstTs: Math.max(e.firstTs, windowStart),
      });
    }
    return out;
  }

  async series(now: number, q: SeriesQuery): Promise<SeriesRow[]> {
    const key = JSON.stringify([q.names, q.labelKeys, q.bucketMs, q.windowMs, q.match ?? {}, q.exclude ?? {}]);
    const to = now - this.opts.latenessMs;
    let st = this.seriesStates.get(key);
    if (!st) {
      // Start at a bucket boundary so the first forward read does not split a bucket.
      const start = Math.floor(to / q.bucketMs) * q.bucketMs;
      st = { pwm: new Array<number>(this.opts.foldPartitions).fill(start), next: 0, firstBucket: Number.NaN, filledFrom: start, entries: new Map(), lock: Promise.resolve() };
      this.seriesStates.set(key, st);
    }
    const state = st;
    const run = state.lock.then(() => this.seriesLocked(now, to, q, state));
    state.lock = run.catch(() => {});
    return run;
  }

  private async seriesLocked(now: number, to: number, q: SeriesQuery, st: SeriesState): Promise<SeriesRow[]> {
    const windowStart = now - q.windowMs;
    const part = st.next;
    st.next = (st.next + 1) % st.pwm.length;
    if (to > st.pwm[part]!) {
      await this.fold(q, st, st.pwm[part]!, to, part);
      st.pwm[part] = to;
    }
    if (st.filledFrom > windowStart) {
      const from = Math.max(windowStart, st.filledFrom - this.opts.warmupChunkMs);
      await this.fold(q, st, from, st.filledFrom);
      st.filledFrom = from;
    }
    // Closed buckets inside the window; drop what fell out of it (only when the window moved past
    // a bucket boundary: this loop runs over every series of the cluster on every tick).
    const firstBucket = Math.floor(windowStart / q.bucketMs);
    const evict = firstBucket !== st.firstBucket;
    st.firstBucket = firstBucket;
    const lastClosedOf = st.pwm.map((wm) => Math.floor(wm / q.bucketMs) - 1);
    const out: SeriesRow[] = [];
    for (const [k, e] of st.entries) {
      const lastClosed = lastClosedOf[e.p]!;
      if (evict) {
        for (const b of e.buckets.keys()) {
          if (b < firstBucket) {
            e.buckets.delete(b);
            e.dirty = true;
          }
        }
        if (e.buckets.size === 0) {
          st.entries.delete(k);
          continue;
        }
      }
      if (e.dirty || e.builtFor !== lastClosed) {
        const pts: SeriesPoint[] = [];
        for (const [b, { sum, count }] of e.buckets) if (b <= lastClosed) pts.push({ t: (b + 0.5) * q.bucketMs, v: sum / count });
        pts.sort((a, b) => a.t - b.t);
        e.points = Object.freeze(pts);
        e.builtFor = lastClosed;
        e.dirty = false;
      }
      if (e.points.length === 0) continue;
      if (e.row?.points !== e.points) e.row = { node: e.node, name: e.name, labels: e.labels, points: e.points };
      out.push(e.row);
    }
    return out;
  }

  /** Folds samples in [from, to) of one partition (or all, for the warm-up) into the buckets. */
  private async fold(q: SeriesQuery, st: SeriesState, from: number, to: number, part?: number): Promise<void> {
    const params: Params = { cluster: this.cluster, names: [...q.names], bucket: q.bucketMs, from, to, parts: st.pwm.length, part: part ?? 0 };
    const onePart = part !== undefined ? ' AND cityHash64(node) % {parts:UInt32} = {part:UInt32}' : '';
    const rows = await this.run<{ node: string; name: string; lv: string[]; p: number; b: number; s: number; c: number }>(
      `series:${q.names[0]}`,
      `SELECT node, name, any(${labelArraySql(q.labelKeys, params)}) AS lv, toUInt32(any(cityHash64(node) % {parts:UInt32})) AS p,
              toUInt32(intDiv(toUnixTimestamp64Milli(ts), {bucket:Int64})) AS b, sum(value) AS s, toUInt32(count()) AS c
       FROM samples
       WHERE cluster = {cluster:String} AND name IN {names:Array(String)}
         AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})${onePart}${filterSql(q, params)}
       GROUP BY node, name, cityHash64(${labelArraySql(q.labelKeys, params)}), b`,
      params,
    );
    for (const r of rows) {
      const k = `${r.node}\u0000${r.name}\u0000${r.lv.join('\u0000')}`;
      let e = st.entries.get(k);
      if (!e) {
        e = { p: Number(r.p), node: r.node, name: r.name, labels: labelsOf(q.labelKeys, r.lv), buckets: new Map(), points: [], builtFor: Number.NaN, dirty: true };
        st.entries.set(k, e);
      }
      const b = Number(r.b);
      const cur = e.buckets.get(b);
      if (cur) {
        cur.sum += Number(r.s);
        cur.count += Number(r.c);
      } else e.buckets.set(b, { sum: Number(r.s), count: Number(r.c) });
      if (b <= e.builtFor) e.dirty = true;
    }
  }

  /**
   * Incremental: one cheap read per call of what arrived since the previous one (the first call reads
   * `recentMs`); nodes asked for in `nodes` and not seen since the process started are looked up
   * once over `lookbackMs`.
   */
  async lastSeen(now: number, q: { recentMs: number; lookbackMs: number; nodes?: readonly string[] }): Promise<Map<string, number>> {
    const run = this.seen.lock.then(() => this.lastSeenLocked(now, q));
    this.seen.lock = run.catch(() => {});
    return run;
  }

  private async lastSeenLocked(now: number, q: { recentMs: number; lookbackMs: number; nodes?: readonly string[] }): Promise<Map<string, number>> {
    const st = this.seen;
    const sql = (extra: string) =>
      `SELECT node, toUnixTimestamp64Milli(max(ts)) AS last_ts FROM samples
       WHERE cluster = {cluster:String} AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts <= fromUnixTimestamp64Milli({to:Int64})${extra}
       GROUP BY node`;
    const remember = (rows: { node: string; last_ts: string }[]) => {
      for (const r of rows) st.last.set(r.node, Math.max(st.last.get(r.node) ?? 0, Number(r.last_ts)));
    };
    const from = Math.max(now - Math.max(q.recentMs, q.lookbackMs), st.wm === Number.NEGATIVE_INFINITY ? now - q.recentMs : st.wm - this.opts.latenessMs);
    if (from <= now) {
      remember(await this.run('lastSeen', sql(''), { cluster: this.cluster, from, to: now }));
      st.wm = Math.max(st.wm, now);
    }
    const unknown = (q.nodes ?? []).filter((n) => !st.last.has(n) && !st.lookedUp.has(n));
    if (unknown.length > 0 && q.lookbackMs > q.recentMs) {
      remember(await this.run('lastSeen:lookback', sql(' AND node IN {nodes:Array(String)}'), { cluster: this.cluster, nodes: unknown, from: now - q.lookbackMs, to: now }));
      for (const n of unknown) st.lookedUp.add(n);
    }
    const out = new Map<string, number>();
    for (const [node, ts] of st.last) if (ts >= now - q.lookbackMs && ts <= now) out.set(node, ts);
    return out;
  }

  async ratioAbove(now: number, q: RatioQuery): Promise<RatioRow[]> {
    const params: Params = { cluster: this.cluster, num: q.numerator, den: q.denominator, min: q.minRatio, from: now - q.windowMs, to: now };
    const lv = labelArraySql(q.labelKeys, params);
    const rows = await this.run<{ node: string; lv: string[]; n: number; d: number; last: number }>(
      `ratio:${q.numerator}`,
      `SELECT node, any(${lv}) AS lv, argMaxIf(value, ts, name = {num:String}) AS n, argMaxIf(value, ts, name = {den:String}) AS d,
              toInt32(toUnixTimestamp64Milli(max(ts)) - {to:Int64}) AS last
       FROM samples
       WHERE cluster = {cluster:String} AND name IN ({num:String}, {den:String})
         AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts <= fromUnixTimestamp64Milli({to:Int64})${filterSql(q, params)}
       GROUP BY node, cityHash64(${lv})
       HAVING countIf(name = {num:String}) > 0 AND countIf(name = {den:String}) > 0 AND d > 0 AND n / d >= {min:Float64}`,
      params,
    );
    return rows.map((r) => ({ node: r.node, labels: labelsOf(q.labelKeys, r.lv), numerator: Number(r.n), denominator: Number(r.d), ts: now + r.last }));
  }

  private async run<T>(label: string, sql: string, params: Params): Promise<T[]> {
    const started = performance.now();
    const rows = await this.store.query<T>(sql, params);
    this.opts.onQuery?.(label, performance.now() - started, rows.length);
    return rows;
  }

  async sql<T>(sql: string, params: Params = {}): Promise<T[]> {
    return this.store.query<T>(sql, { cluster: this.cluster, ...params });
  }
}
