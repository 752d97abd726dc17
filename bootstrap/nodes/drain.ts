// Drain: evict every pod of a node that a controller will recreate elsewhere, through the Eviction
// API, and wait until they are gone. A disruption budget that says "not now" (429) is waited on
// with backoff until the deadline, never forced, and a pod is never deleted directly. The loop
// re-lists the node every round, so a pod that lands on it during the drain (bound by name, past
// the cordon) is evicted too, and "gone" is what the API lists, not what an eviction answered.
import { Backoff, sleep } from '../../core/backoff.ts';
import { KubeApiError, type KubeApi } from '../../ingest/kube/api-client.ts';
import { cordon, getNode, type CordonResult } from './cordon.ts';
import { evictPod, type EvictionOutcome } from './eviction.ts';
import { podRef, type PodObject, type PodRef } from './objects.ts';
import { planPods, skipReason, type PodPlanOptions, type SkippedPod } from './pod-plan.ts';
import { assertNotLastControlPlane } from './readiness.ts';

export interface DrainOptions extends PodPlanOptions {
  /** Who in Whistle drains; the node is cordoned under this name first (see cordon). */
  by: string;
  /** List the node's pods and answer the plan: no cordon, no eviction. */
  dryRun?: boolean;
  /** The whole drain, evictions and waiting for the pods to go (default 5 min). */
  timeoutMs?: number;
  /** How often the node's pods are listed again (default 500 ms). */
  pollMs?: number;
  /** Backoff between evictions of one pod that the API refused (default 500 ms doubling to 5 s, jittered). */
  retry?: { initialMs: number; maxMs: number };
  /** Evictions in flight at once (default 8). The API server keeps budgets atomic, so this only paces the load. */
  concurrency?: number;
  gracePeriodSeconds?: number;
  /**
   * A pod whose eviction the API accepted counts as moved, gone from the listing or not. For a node
   * whose kubelet is dead (NotReady): nothing there confirms the deletion, so its pods stay listed
   * as terminating, while their controllers have already replaced them elsewhere.
   */
  acceptedIsMoved?: boolean;
  signal?: AbortSignal;
}

export interface EvictedPod extends PodRef {
  /** Eviction calls it took; 0 when the pod went away before Whistle evicted it. */
  evictionCalls: number;
  /** From the start of the drain until the pod was no longer listed on the node. */
  goneAfterMs: number;
}

export type BlockReason =
  /** The last eviction got a 429 from a disruption budget. */
  | 'disruption-budget'
  /** Evicted, but still listed on the node (a kubelet that does not confirm the deletion: a dead node). */
  | 'still-terminating'
  /** The last eviction failed otherwise (throttling, a server error, the connection). */
  | 'eviction-error'
  /** Found on the node too close to the deadline to be evicted. */
  | 'not-attempted';

export interface BlockedPod extends PodRef {
  reason: BlockReason;
  /** The budget's name, when the API said. */
  pdb?: string;
  message: string;
  evictionCalls: number;
}

export interface DrainResult {
  node: string;
  outcome: 'drained' | 'timed-out' | 'aborted' | 'dry-run';
  /** The cordon the drain made or found; null in a dry run. */
  cordon: CordonResult | null;
  evicted: EvictedPod[];
  /** Dry run only: the pods a drain would evict now. */
  wouldEvict: PodRef[];
  skipped: SkippedPod[];
  /** The pods still on the node at the end that the drain meant to move, and why they are there. */
  blocked: BlockedPod[];
  durationMs: number;
}

interface Tracked {
  ref: PodRef;
  calls: number;
  acceptedAt?: number;
  last?: { reason: BlockReason; pdb?: string; message: string };
  nextAttemptAt: number;
  backoff: Backoff;
}

export async function listNodePods(api: KubeApi, node: string, signal?: AbortSignal): Promise<PodObject[]> {
  const selector = encodeURIComponent(`spec.nodeName=${node}`);
  return (await api.get<{ items: PodObject[] }>(`/api/v1/pods?fieldSelector=${selector}`, signal)).items;
}

async function inPool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function record(t: Tracked, outcome: EvictionOutcome, now: number): void {
  if (outcome.kind === 'evicted' || outcome.kind === 'gone') {
    t.acceptedAt = now;
    return;
  }
  t.last =
    outcome.kind === 'blocked'
      ? { reason: 'disruption-budget', ...(outcome.pdb ? { pdb: outcome.pdb } : {}), message: outcome.message }
      : { reason: 'eviction-error', message: `${outcome.status} ${outcome.message}` };
  t.nextAttemptAt = now + t.backoff.next();
}

function blockedPod(t: Tracked, now: number): BlockedPod {
  const base = { ...t.ref, evictionCalls: t.calls };
  if (t.acceptedAt !== undefined) {
    return { ...base, reason: 'still-terminating', message: `evicted ${Math.round((now - t.acceptedAt) / 1000)} s ago and still listed on the node` };
  }
  if (t.last) return { ...base, ...t.last };
  return { ...base, reason: 'not-attempted', message: 'found on the node at the deadline' };
}

export async function drain(api: KubeApi, node: string, opts: DrainOptions): Promise<DrainResult> {
  const start = Date.now();
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const deadline = start + timeoutMs;
  // The deadline is a timer of our own, held (and cleared) here, and the loop also checks the clock.
  // Not AbortSignal.any([AbortSignal.timeout(ms), ...]): Node (20.x, nodejs/node#57736) may collect
  // the timeout signal inside the composite before it fires, and the composite then never aborts
  // (a drain held by a budget went on asking well past its deadline, with nothing else to end it).
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error(`drain of ${node}: deadline of ${timeoutMs} ms reached`)), timeoutMs);
  const onCallerAbort = () => stop.abort(opts.signal?.reason);
  if (opts.signal?.aborted) onCallerAbort();
  else opts.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    return await drainUntil(api, node, opts, { start, deadline, signal: stop.signal });
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
}

/** How long the listing at the deadline may take: it decides what the result reports as blocked. */
const FINAL_LISTING_MS = 10_000;

/** A signal that aborts after `ms`, its timer held here and cleared by `clear` (see drain on AbortSignal.timeout). */
function ownTimeout(ms: number): { signal: AbortSignal; clear: () => void } {
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(new Error(`no answer in ${ms} ms`)), ms);
  return { signal: c.signal, clear: () => clearTimeout(timer) };
}

async function drainUntil(api: KubeApi, node: string, opts: DrainOptions, t: { start: number; deadline: number; signal: AbortSignal }): Promise<DrainResult> {
  const { start, deadline, signal } = t;
  const callerAborted = () => opts.signal?.aborted === true;
  const result = (outcome: DrainResult['outcome'], rest: Partial<DrainResult>): DrainResult => ({
    node,
    outcome,
    cordon: null,
    evicted: [],
    wouldEvict: [],
    skipped: [],
    blocked: [],
    ...rest,
    durationMs: Date.now() - start,
  });

  await assertNotLastControlPlane(api, await getNode(api, node, signal), 'drain', signal);
  if (opts.dryRun) {
    const plan = planPods(await listNodePods(api, node, signal), opts);
    return result('dry-run', { wouldEvict: plan.evict, skipped: plan.skip });
  }
  const cordoned = await cordon(api, node, { by: opts.by, signal });

  const tracked = new Map<string, Tracked>();
  const skipped = new Map<string, SkippedPod>();
  const evicted: EvictedPod[] = [];
  const retry = opts.retry ?? { initialMs: 500, maxMs: 5000 };
  let outcome: DrainResult['outcome'] | null = null;
  while (outcome === null) {
    const pastDeadline = Date.now() >= deadline;
    let pods: PodObject[] | null = null;
    // The listing at the deadline gets a bounded moment of its own (the drain's signal has fired by
    // then), so that a pod gone in the last round is reported gone, not blocked.
    const final = pastDeadline && !callerAborted() ? ownTimeout(FINAL_LISTING_MS) : null;
    try {
      pods = await listNodePods(api, node, final?.signal ?? signal);
    } catch (err) {
      // A refusal will not change by waiting; a busy or restarting API server will, within the deadline.
      if (err instanceof KubeApiError && err.status >= 400 && err.status < 500 && err.status !== 429) throw err;
    } finally {
      final?.clear();
    }
    const now = Date.now();
    if (pods) {
      for (const p of pods) {
        const uid = p.metadata.uid;
        if (tracked.has(uid) || skipped.has(uid)) continue;
        const reason = skipReason(p, opts);
        if (reason) skipped.set(uid, { ...podRef(p), reason });
        else tracked.set(uid, { ref: podRef(p), calls: 0, nextAttemptAt: now, backoff: new Backoff(retry) });
      }
      const listed = new Set(pods.map((p) => p.metadata.uid));
      for (const [uid, t] of tracked) {
        if (listed.has(uid)) continue;
        evicted.push({ ...t.ref, evictionCalls: t.calls, goneAfterMs: now - start });
        tracked.delete(uid);
      }
      if (opts.acceptedIsMoved && tracked.size > 0 && [...tracked.values()].every((t) => t.acceptedAt !== undefined)) {
        for (const [uid, t] of tracked) {
          evicted.push({ ...t.ref, evictionCalls: t.calls, goneAfterMs: (t.acceptedAt ?? now) - start });
          tracked.delete(uid);
        }
      }
      if (tracked.size === 0) outcome = 'drained';
    }
    if (outcome === null && callerAborted()) outcome = 'aborted';
    // The clock decides: a round cut short by the timer firing goes once more round, to the final listing.
    if (outcome === null && pastDeadline) outcome = 'timed-out';
    if (outcome !== null) break;

    const due = [...tracked.values()].filter((t) => t.acceptedAt === undefined && t.nextAttemptAt <= now);
    await inPool(due, opts.concurrency ?? 8, async (t) => {
      try {
        t.calls++;
        record(t, await evictPod(api, t.ref, { gracePeriodSeconds: opts.gracePeriodSeconds, signal }), Date.now());
      } catch (err) {
        if (!signal.aborted) record(t, { kind: 'error', status: 0, message: (err as Error).message }, Date.now());
      }
    });
    await sleep(Math.max(0, Math.min(opts.pollMs ?? 500, deadline - Date.now())), signal);
  }
  const end = Date.now();
  return result(outcome, {
    cordon: cordoned,
    evicted,
    skipped: [...skipped.values()],
    blocked: [...tracked.values()].map((t) => blockedPod(t, end)),
  });
}
