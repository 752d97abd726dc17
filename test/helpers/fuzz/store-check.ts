// Nothing half-written: after the writer has drained, no fuzzed telemetry request that was refused
// has a row, none has more rows than its 202 said, the fuzz nodes' rows add up to exactly what was
// answered 202, and every good sample answered 202 is stored. (Per request only "no more than":
// a mutation may have rewritten the fuzz_id label of some of its samples; the total is exact.)
import type { Store } from '../../../store/store.ts';
import { GOOD_METRIC } from './good-traffic.ts';
import { FUZZ_LABEL } from './seeds.ts';

export interface StoreCheck {
  /** Rows whose fuzz_id is a request that was refused (must be 0). */
  rowsFromRefused: number;
  /** fuzz_ids with more rows than their 202 said. */
  overStoredRequests: string[];
  fuzzRowsStored: number;
  goodSamplesStored: number;
}

export async function checkStore(store: Store, fuzzNodes: string[], goodNodes: string[], accepted: Map<string, number>): Promise<StoreCheck> {
  const byId = await store.query<{ id: string; c: string }>(
    `SELECT labels[{label:String}] AS id, count() AS c FROM samples WHERE node IN {nodes:Array(String)} GROUP BY id`,
    { label: FUZZ_LABEL, nodes: fuzzNodes },
  );
  let rowsFromRefused = 0;
  let fuzzRowsStored = 0;
  const overStored: string[] = [];
  for (const row of byId) {
    const c = Number(row.c);
    fuzzRowsStored += c;
    const expected = accepted.get(row.id);
    // A mutation may have rewritten the label itself; such rows are covered by the total.
    if (expected === undefined) continue;
    if (expected === 0) rowsFromRefused += c;
    else if (c > expected) overStored.push(`${row.id}: ${c} stored, ${expected} accepted`);
  }
  const good = await store.query<{ c: string }>(`SELECT count() AS c FROM samples WHERE node IN {nodes:Array(String)} AND name = {name:String}`, { nodes: goodNodes, name: GOOD_METRIC });
  return { rowsFromRefused, overStoredRequests: overStored, fuzzRowsStored, goodSamplesStored: Number(good[0]?.c ?? 0) };
}
