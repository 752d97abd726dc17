// The filesystem's usage as the node's agent reported it after a given moment: verification reads
// telemetry, not the task's own word, so an agent that says "freed" proves it by what it measures next.
import type { Store } from '../../store/store.ts';
import type { FreshUsage } from './logic.ts';

export async function usageSince(store: Store, q: { cluster: string; node: string; mount: string; since: number }): Promise<FreshUsage | null> {
  const rows = await store.query<{ used: number; size: number; nu: number; ns: number; t: number }>(
    `SELECT argMaxIf(value, ts, name = 'node_filesystem_used_bytes') AS used, argMaxIf(value, ts, name = 'node_filesystem_size_bytes') AS size,
            countIf(name = 'node_filesystem_used_bytes') AS nu, countIf(name = 'node_filesystem_size_bytes') AS ns, toUnixTimestamp64Milli(max(ts)) AS t
     FROM samples
     WHERE cluster = {cluster:String} AND node = {node:String} AND labels['mount'] = {mount:String}
       AND name IN ('node_filesystem_used_bytes', 'node_filesystem_size_bytes') AND ts > fromUnixTimestamp64Milli({since:Int64})`,
    q,
  );
  const r = rows[0];
  if (!r || Number(r.nu) === 0 || Number(r.ns) === 0) return null;
  return { used: Number(r.used), size: Number(r.size), ts: Number(r.t) };
}
