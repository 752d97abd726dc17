// What a collector or probe produces. The agent stamps one timestamp per collection tick and adds
// cluster/node at upload time, so a collector only says what it measured.
import type { Labels } from '../../core/types.ts';

export interface Point {
  name: string;
  value: number;
  labels: Labels;
}

/** One sample as it travels to `POST /v1/telemetry` (cluster and node are in the envelope). */
export interface WireSample extends Point {
  /** Epoch milliseconds. */
  ts: number;
}

export interface Collector {
  /** Stable id, used in logs and in `whistle_agent_collector_errors_total{collector}`. */
  readonly name: string;
  /**
   * `now` is the tick's timestamp (epoch ms) that every point of this collection carries. A probe
   * must not throw for a failure it can describe as a metric (its up=0); a throw counts as a
   * collector error.
   */
  collect(now: number): Promise<Point[]>;
}

export function point(name: string, value: number, labels: Labels = {}): Point {
  return { name, value, labels };
}
