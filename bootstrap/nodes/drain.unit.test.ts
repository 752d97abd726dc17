import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import { drain } from './drain.ts';
import type { NodeObject, PodObject } from './objects.ts';

const BUDGET_429 = {
  ok: false,
  status: 429,
  error: {
    message: "Cannot evict pod as it would violate the pod's disruption budget.",
    details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget guarded needs 2 healthy pods and has 2 currently' }] },
  },
};

const pod = (name: string): PodObject => ({
  metadata: { name, namespace: 'apps', uid: `uid-${name}`, ownerReferences: [{ kind: 'ReplicaSet', name: 'rs', controller: true }] },
  spec: { nodeName: 'n1' },
  status: { phase: 'Running' },
});

/** Just what drain asks of the API: the node (GET, PATCH), its pods, evictions. */
function fakeApi(o: { evict: (name: string) => unknown; pods: () => PodObject[]; listing?: (signal?: AbortSignal) => Promise<void> }) {
  const node: NodeObject = { metadata: { name: 'n1', uid: 'node-uid', resourceVersion: '1' }, spec: {} };
  const calls: string[] = [];
  const api = {
    async send(method: string, path: string, body?: { spec?: { unschedulable?: boolean } }) {
      calls.push(`${method} ${path}`);
      if (method === 'GET') return { ok: true, status: 200, value: structuredClone(node) };
      if (method === 'PATCH') {
        node.spec = { unschedulable: body?.spec?.unschedulable ?? undefined };
        return { ok: true, status: 200, value: node };
      }
      return o.evict(/pods\/([^/]+)\/eviction$/.exec(path)![1]!);
    },
    async get(path: string, signal?: AbortSignal) {
      calls.push(`GET ${path}`);
      // As the real client: a request made with an aborted signal fails at once.
      if (signal?.aborted) throw new Error('This operation was aborted');
      await o.listing?.(signal);
      return { items: o.pods() };
    },
  };
  return { api: api as unknown as KubeApi, calls };
}

describe('drain deadline', () => {
  it('a budget that never allows the eviction ends the drain timed out at its deadline, naming the budget', async () => {
    const { api } = fakeApi({ evict: () => BUDGET_429, pods: () => [pod('a'), pod('b')] });
    const r = await drain(api, 'n1', { by: 'test', timeoutMs: 1500, pollMs: 50, retry: { initialMs: 50, maxMs: 200 } });
    expect(r.outcome).toBe('timed-out');
    expect(r.durationMs).toBeGreaterThanOrEqual(1500);
    expect(r.durationMs).toBeLessThan(3000);
    expect(r.blocked.map((b) => [b.name, b.reason, b.pdb])).toEqual([
      ['a', 'disruption-budget', 'guarded'],
      ['b', 'disruption-budget', 'guarded'],
    ]);
    // Asked again with backoff, not in a tight loop.
    for (const b of r.blocked) expect(b.evictionCalls).toBeGreaterThanOrEqual(3);
    for (const b of r.blocked) expect(b.evictionCalls).toBeLessThan(40);
  });

  it('the deadline holds through garbage collection (a signal of AbortSignal.timeout inside AbortSignal.any may be collected and never fire)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { api } = fakeApi({ evict: () => BUDGET_429, pods: () => [pod('a')] });
    const collect = setInterval(gc, 20);
    try {
      const r = await drain(api, 'n1', { by: 'test', timeoutMs: 1000, pollMs: 50, retry: { initialMs: 50, maxMs: 100 } });
      expect(r.outcome).toBe('timed-out');
      expect(r.durationMs).toBeLessThan(2500);
    } finally {
      clearInterval(collect);
    }
  }, 10_000);

  it('the listing at the deadline decides: a pod gone by then is evicted, not blocked', async () => {
    let listings = 0;
    const start = Date.now();
    const { api } = fakeApi({
      evict: () => ({ ok: true, status: 201, value: {} }),
      // The pod stays listed (terminating) until the deadline has passed.
      pods: () => (Date.now() - start < 1000 ? [pod('a')] : []),
      listing: async () => {
        listings++;
      },
    });
    const r = await drain(api, 'n1', { by: 'test', timeoutMs: 1000, pollMs: 100 });
    expect(listings).toBeGreaterThan(1);
    expect(r.evicted.map((p) => p.name)).toEqual(['a']);
    expect(r.blocked).toEqual([]);
    expect(r.durationMs).toBeLessThan(2000);
  });

  it('a caller abort ends it as aborted, with the listing in flight cut short', async () => {
    const ac = new AbortController();
    const { api } = fakeApi({
      evict: () => BUDGET_429,
      pods: () => [pod('a')],
      listing: (signal) =>
        new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, 50);
          signal?.addEventListener('abort', () => (clearTimeout(t), reject(new Error('aborted'))), { once: true });
        }),
    });
    setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    const r = await drain(api, 'n1', { by: 'test', timeoutMs: 60_000, pollMs: 50, signal: ac.signal });
    expect(r.outcome).toBe('aborted');
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});
