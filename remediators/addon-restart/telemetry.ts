// The agents' DNS probes from the samples they sent: verification reads telemetry, so a restarted
// CoreDNS counts as fixed only once the nodes resolve through it again.
import type { Store } from '../../store/store.ts';
import type { DnsProbeResult } from './logic.ts';

const probeFilter = (names: readonly string[]) => (names.length ? `AND labels['probe'] IN {names:Array(String)}` : '');

/** Whether any node sent a DNS probe sample in [from, to): if none does, there is nothing to wait for. */
export async function dnsProbed(store: Store, q: { cluster: string; metric: string; names: readonly string[]; from: number; to: number }): Promise<boolean> {
  const rows = await store.query<{ n: number }>(
    `SELECT count() AS n FROM samples
     WHERE cluster = {cluster:String} AND name = {metric:String} ${probeFilter(q.names)}
       AND ts >= fromUnixTimestamp64Milli({from:Int64}) AND ts < fromUnixTimestamp64Milli({to:Int64})`,
    { cluster: q.cluster, metric: q.metric, names: [...q.names], from: q.from, to: q.to },
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

/** The newest result of each (node, probe) taken after `since`. */
export async function dnsProbesSince(store: Store, q: { cluster: string; metric: string; names: readonly string[]; since: number }): Promise<DnsProbeResult[]> {
  const rows = await store.query<{ node: string; probe: string; v: number; t: number }>(
    `SELECT node, labels['probe'] AS probe, argMax(value, ts) AS v, toUnixTimestamp64Milli(max(ts)) AS t
     FROM samples
     WHERE cluster = {cluster:String} AND name = {metric:String} ${probeFilter(q.names)} AND ts > fromUnixTimestamp64Milli({since:Int64})
     GROUP BY node, probe`,
    { cluster: q.cluster, metric: q.metric, names: [...q.names], since: q.since },
  );
  return rows.map((r) => ({ node: r.node, probe: r.probe, up: Number(r.v) > 0, ts: Number(r.t) }));
}
