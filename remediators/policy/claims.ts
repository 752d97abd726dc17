// The one-action-per-target lock and the rate limit as the actions table has them, so they hold
// across restarts and across workers sharing one store (kafka.enabled: several Whistles, one
// ClickHouse). ClickHouse has no transactions and no compare-and-set, so a claim is a row: the
// policy writes its action's `started` row (naming the target, its worker and its lease), then
// reads back the live claims on that target and decides (`decide`):
//   - alone: it holds the target;
//   - not the earliest (ts, id): it lost; it closes its own row `skipped` (SubjectBusy, naming the holder);
//   - the earliest, with others: those others see it and close theirs at once; it reads again until
//     they have, for a bounded while, then counts itself lost too.
// Two claims never both hold: a claim holds only when a read-back made after its row was stored saw
// no other live claim, and any claim stored later sees it (both losing under contention is possible,
// and safe). A claim is live while its action has no terminal row (succeeded, failed, skipped) and is
// younger than its lease; a worker that died mid-action leaves a live claim until its restart closes
// it (the chains' resume path records it failed, Interrupted) or the lease runs out.
import type { Store } from '../../store/store.ts';

/** The reason on the `started` row of every action the policy runs: the claim. */
export const CLAIM_REASON = 'remediating';
/** No lease is read as longer than this, so the read-back scans a bounded stretch of the table. */
export const MAX_LEASE_MS = 24 * 3600_000;

export interface Claim {
  id: string;
  ts: number;
  actor: string;
  incidentId: string;
  /** The worker that wrote it (`hostname:dataDir`); absent on rows written before claims named one. */
  worker: string | undefined;
  leaseMs: number;
}

/** What the claim's detail carries besides the plan: read back by every worker. */
export interface ClaimDetail {
  target: string;
  worker: string;
  leaseMs: number;
}

/** Holds; lost to `holder` (null: its own row could not be read back); or read again. */
export type Verdict = { holds: true } | { holds: false; holder: Claim | null } | { holds: 'wait' };

const before = (a: Claim, b: Claim) => a.ts < b.ts || (a.ts === b.ts && a.id < b.id);

/** The earliest (ts, id) first. */
export function byAge(claims: readonly Claim[]): Claim[] {
  return [...claims].sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
}

/**
 * Whether claim `own` holds its target, given the live claims read back after it was stored (its
 * own among them). `mayWait`: false once the bounded wait for the later claims to close is over.
 */
export function decide(own: string, live: readonly Claim[], mayWait: boolean): Verdict {
  const sorted = byAge(live);
  const others = sorted.filter((c) => c.id !== own);
  const mine = sorted.find((c) => c.id === own);
  if (mine && others.length === 0) return { holds: true };
  // Not read back (it cannot be seen yet): wait for it; others present and it unseen: it lost.
  if (!mine) return others.length ? { holds: false, holder: others[0]! } : mayWait ? { holds: 'wait' } : { holds: false, holder: null };
  if (sorted[0]!.id !== own) return { holds: false, holder: sorted[0]! };
  return mayWait ? { holds: 'wait' } : { holds: false, holder: others[0]! };
}

/** Live: no terminal row, and younger than its lease. */
export function isLive(c: Pick<Claim, 'ts' | 'leaseMs'>, now: number): boolean {
  return now - c.ts < Math.min(c.leaseMs, MAX_LEASE_MS);
}

export class TargetClaims {
  constructor(
    private readonly store: Store,
    /** This worker's name on its claims: the same across its restarts, different for each worker. */
    readonly worker: string,
    private readonly defaultLeaseMs: number,
  ) {}

  /** The live claims on `target` (of `cluster`), the earliest first. */
  async live(cluster: string, target: string, now = Date.now()): Promise<Claim[]> {
    // Aliases unlike the columns: an alias shadows its column in WHERE and HAVING.
    const rows = await this.store.query<{ id: string; started_ms: number | string; who: string; inc: string; claim: string }>(
      `SELECT id, toUnixTimestamp64Milli(minIf(ts, state = 'started')) AS started_ms, anyIf(actor, state = 'started') AS who,
              anyIf(incident_id, state = 'started') AS inc, anyIf(detail, state = 'started') AS claim
       FROM actions
       WHERE cluster = {cluster:String} AND ts >= fromUnixTimestamp64Milli({since:Int64})
       GROUP BY id
       HAVING countIf(state = 'started' AND reason = {claim:String} AND JSONExtractString(detail, 'target') = {target:String}) > 0
          AND countIf(state IN ('succeeded', 'failed', 'skipped')) = 0`,
      { cluster, target, claim: CLAIM_REASON, since: now - MAX_LEASE_MS },
    );
    const out: Claim[] = [];
    for (const r of rows) {
      const d = parseDetail(r.claim);
      const c: Claim = {
        id: String(r.id),
        ts: Number(r.started_ms),
        actor: String(r.who),
        incidentId: String(r.inc),
        worker: typeof d.worker === 'string' ? d.worker : undefined,
        leaseMs: typeof d.leaseMs === 'number' && d.leaseMs > 0 ? d.leaseMs : this.defaultLeaseMs,
      };
      if (isLive(c, now)) out.push(c);
    }
    return byAge(out);
  }

  /**
   * The ids of the policy's actions on `cluster` begun since `since` (epoch ms) that were not lost
   * claims (an action closed `skipped` never ran): what the rate limit counts, every worker's.
   */
  async startsSince(cluster: string | null, since: number): Promise<{ id: string; cluster: string; ts: number }[]> {
    const rows = await this.store.query<{ id: string; c: string; started_ms: number | string }>(
      `SELECT id, any(cluster) AS c, toUnixTimestamp64Milli(minIf(ts, state = 'started')) AS started_ms
       FROM actions
       WHERE ({cluster:String} = '' OR cluster = {cluster:String}) AND ts > fromUnixTimestamp64Milli({since:Int64})
       GROUP BY id
       HAVING countIf(state = 'started' AND reason = {claim:String}) > 0 AND countIf(state = 'skipped') = 0
       ORDER BY started_ms`,
      { cluster: cluster ?? '', since, claim: CLAIM_REASON },
    );
    return rows.map((r) => ({ id: String(r.id), cluster: String(r.c), ts: Number(r.started_ms) }));
  }
}

function parseDetail(s: string): Record<string, unknown> {
  try {
    return JSON.parse(s || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
}
