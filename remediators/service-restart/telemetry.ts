// The unit's probe as the node's agent reported it after a given moment: verification reads
// telemetry, not the task's own word.
import type { Store } from '../../store/store.ts';
import type { FreshProbe } from './logic.ts';

export async function probeSince(store: Store, q: { cluster: string; node: string; metric: string; probe: string; since: number }): Promise<FreshProbe | null> {
  const rows = await store.query<{ v: number; n: number; t: number }>(
    `SELECT argMax(value, ts) AS v, count() AS n, toUnixTimestamp64Milli(max(ts)) AS t
     FROM samples
     WHERE cluster = {cluster:String} AND node = {node:String} AND name = {metric:String} AND labels['probe'] = {probe:String}
       AND ts > fromUnixTimestamp64Milli({since:Int64})`,
    q,
  );
  const r = rows[0];
  if (!r || Number(r.n) === 0) return null;
  return { up: Number(r.v) > 0, ts: Number(r.t) };
}
