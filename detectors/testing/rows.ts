// Row builders for detector unit tests: plain data in the shapes the context returns.
import type { LatestRow, SeriesPoint, SeriesRow } from '../api.ts';

export const NOW = Date.parse('2026-11-24T12:00:00Z');
export const MIN = 60_000;
export const HOUR = 3_600_000;

export function latest(node: string, name: string, value: number, labels: Record<string, string> = {}, extra: Partial<LatestRow> = {}): LatestRow {
  return { node, name, value, labels, ts: NOW - 5_000, lastNonZeroTs: value > 0 ? NOW - 5_000 : null, firstTs: NOW - HOUR, ...extra };
}

/** A series of bucket means from (hoursAgo, value) pairs. */
export function series(node: string, name: string, labels: Record<string, string>, points: [hoursAgo: number, value: number][]): SeriesRow {
  const pts: SeriesPoint[] = points.map(([h, v]) => ({ t: NOW - h * HOUR, v })).sort((a, b) => a.t - b.t);
  return { node, name, labels, points: pts };
}
