// The detector plugin API. A detector is a module with an id, a description, a zod config schema
// with defaults, and `evaluate(context, config) -> findings`. `evaluate` only reads: through the
// context's typed queries over ClickHouse (context.ts) and the cluster's Kubernetes state
// (core/kube.ts). It never writes, sends or sleeps; the engine (engine.ts) decides when it runs,
// bounds its time, and hands its complete verdict to the incident stage.
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { Finding, Labels, NodeStatus, Severity } from '../core/types.ts';
import type { ClusterStateView } from '../core/kube.ts';

/** Label filter: every key must have one of the listed values (`match`) / none of them (`exclude`). */
export interface LabelFilter {
  match?: Record<string, readonly string[]>;
  exclude?: Record<string, readonly string[]>;
}

export interface LatestQuery extends LabelFilter {
  /** Metric names to read. */
  names: readonly string[];
  /** Only samples newer than `now - windowMs` count; older series are absent from the answer. */
  windowMs: number;
  /**
   * Labels that identify a series (others are ignored and not returned). Absent: the full label
   * set identifies the series. Naming the keys is cheaper and robust to extra labels.
   */
  labelKeys?: readonly string[];
  /**
   * Only series whose newest value is within these bounds come back, judged in ClickHouse (e.g.
   * probes that are down: `{ atMost: 0 }`). Such a query reads its whole window on every call
   * instead of incrementally, and returns only the few rows that matter.
   */
  keep?: { atMost?: number; atLeast?: number };
}

export interface LatestRow {
  node: string;
  name: string;
  labels: Labels;
  value: number;
  /** Epoch ms of the sample. */
  ts: number;
  /** Most recent timestamp at which the value was above 0 (probes: last success) within the window, else null. */
  lastNonZeroTs: number | null;
  /** The oldest sample of this series seen within the window (epoch ms): how long it has been reported. */
  firstTs: number;
}

export interface RatioQuery extends LabelFilter {
  /** e.g. node_filesystem_used_bytes */
  numerator: string;
  /** e.g. node_filesystem_size_bytes */
  denominator: string;
  /** Only series whose newest numerator / denominator is at least this are returned. */
  minRatio: number;
  windowMs: number;
  /** Labels that identify a series (both metrics must carry the same values). */
  labelKeys: readonly string[];
}

export interface RatioRow {
  node: string;
  labels: Labels;
  numerator: number;
  denominator: number;
  /** Newest sample time of the pair (epoch ms). */
  ts: number;
}

export interface SeriesQuery extends LabelFilter {
  names: readonly string[];
  windowMs: number;
  /** Points are bucket means; only closed buckets are returned. */
  bucketMs: number;
  labelKeys: readonly string[];
}

export interface SeriesPoint {
  /** Bucket midpoint, epoch ms. */
  t: number;
  /** Mean of the bucket's samples. */
  v: number;
}

export interface SeriesRow {
  node: string;
  name: string;
  labels: Labels;
  /**
   * Oldest first. The array is the same object from tick to tick while no bucket closes, so
   * detectors may memoise work on it (a WeakMap keyed by the array).
   */
  points: readonly SeriesPoint[];
}

/** Typed, cluster-scoped reads over the samples table. One query serves all nodes of the cluster. */
export interface TelemetryQueries {
  /** The newest sample per (node, name, labels) within the window. */
  latest(q: LatestQuery): Promise<LatestRow[]>;
  /** Bucketed series over a window (incrementally maintained: only new data is read each tick). */
  series(q: SeriesQuery): Promise<SeriesRow[]>;
  /**
   * Series whose newest numerator / denominator (e.g. used / size) is at least `minRatio`, judged in
   * ClickHouse so only the few over the line come back, however many series the cluster has.
   */
  ratioAbove(q: RatioQuery): Promise<RatioRow[]>;
  /**
   * When each node last sent anything (any sample), within `lookbackMs`. Read incrementally: each
   * call reads what arrived since the previous one (the first reads `recentMs`); `nodes` not seen
   * since the start are looked up once over the whole lookback.
   */
  lastSeen(q: { recentMs: number; lookbackMs: number; nodes?: readonly string[] }): Promise<Map<string, number>>;
  /** Escape hatch for plugins: a read-only query with bound `{name:Type}` parameters. */
  sql<T = Record<string, unknown>>(sql: string, params?: Record<string, string | number | readonly (string | number)[]>): Promise<T[]>;
}

/** A node agent registered for the cluster (from the node registry; tokens are never exposed). */
export interface RegisteredNodeInfo {
  node: string;
  status: NodeStatus;
  registeredAt: number;
  /** When the status last changed (e.g. when it was authorized). */
  updatedAt: number;
}

export interface DetectorContext {
  readonly cluster: string;
  /** The tick's time (epoch ms). Detectors use it instead of Date.now() so rows-based tests are exact. */
  readonly now: number;
  readonly telemetry: TelemetryQueries;
  readonly kube: ClusterStateView;
  /** Registered agents of this cluster. */
  registeredNodes(): readonly RegisteredNodeInfo[];
  /** Aborted when the detector exceeds its timeout; long loops may check it. */
  readonly signal: AbortSignal;
}

/** What a detector module exports (default export, or `detectors` array, see loader.ts). */
export interface Detector<S extends z.ZodObject = z.ZodObject> {
  /** Lower-case kebab-case, unique: it names config keys, metrics labels and fingerprints. */
  readonly id: string;
  readonly description: string;
  /** Strict object schema; `parse({})` must succeed (every field has a default). */
  readonly configSchema: S;
  evaluate(ctx: DetectorContext, config: z.output<S>): Promise<Finding[]>;
}

/** Identity helper that keeps the config type of `evaluate` tied to the schema. */
export function defineDetector<S extends z.ZodObject>(d: Detector<S>): Detector<S> {
  return d;
}

export const DETECTOR_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** Stable identity of a problem: the same detector, cluster and subject always give the same value. */
export function fingerprint(detector: string, cluster: string, subject: string): string {
  return createHash('sha256').update(`${detector}\u0000${cluster}\u0000${subject}`).digest('hex').slice(0, 32);
}

export interface FindingInput {
  subject: string;
  severity: Severity;
  summary: string;
  evidence?: Record<string, unknown>;
  labels?: Labels;
}

/** Builds a finding with its fingerprint; severity is not part of the identity (warning -> critical is one problem). */
export function makeFinding(detector: string, cluster: string, now: number, f: FindingInput): Finding {
  return {
    detector,
    cluster,
    subject: f.subject,
    severity: f.severity,
    summary: f.summary,
    evidence: f.evidence ?? {},
    labels: { ...(f.labels ?? {}) },
    fingerprint: fingerprint(detector, cluster, f.subject),
    ts: now,
  };
}

/** "3.2 h", "45 min", "12 d": durations in summaries. */
export function humanDuration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  if (s < 48 * 3600) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}
