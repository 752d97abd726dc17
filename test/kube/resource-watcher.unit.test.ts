// The reflector logic of ResourceWatcher in isolation: 410 Gone in the middle of a watch leads to a
// relist that reports objects deleted meanwhile and skips objects whose version did not change;
// a watch that ends is reopened from the last version (bookmarks included); a failing API is
// retried and reported, not thrown. (Against the real API server: test/kube/ingest.test.ts.)
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { KubeRecord } from '../../core/types.ts';
import type { KubeApi } from '../../ingest/kube/api-client.ts';
import { ResourceWatcher } from '../../ingest/kube/resource-watcher.ts';

const pod = (name: string, rv: string) => ({ metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: rv } });

interface Script {
  lists: { rv: string; items: ReturnType<typeof pod>[] }[];
  /** Each watch: lines to send, then whether to end the stream (else it stays open). */
  watches: { lines: unknown[]; end: boolean }[];
  failFirstList?: boolean;
}

function fakeApi(script: Script) {
  const calls: string[] = [];
  let listFailures = script.failFirstList ? 1 : 0;
  const api = {
    cluster: 'c1',
    async get(path: string) {
      calls.push(`GET ${path}`);
      if (listFailures-- > 0) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      const l = script.lists.shift();
      if (!l) throw new Error('no more lists scripted');
      return { metadata: { resourceVersion: l.rv }, items: l.items };
    },
    async open(_method: string, path: string, opts: { signal?: AbortSignal } = {}) {
      calls.push(`WATCH ${path}`);
      const w = script.watches.shift() ?? { lines: [], end: false };
      const res = new PassThrough() as PassThrough & { statusCode: number };
      res.statusCode = 200;
      // Like the real client: aborting the request ends the response stream with an error.
      if (opts.signal?.aborted) throw new Error('aborted');
      opts.signal?.addEventListener('abort', () => res.destroy(new Error('aborted')), { once: true });
      setImmediate(() => {
        for (const l of w.lines) res.write(`${JSON.stringify(l)}\n`);
        if (w.end) res.end();
      });
      return res as unknown as IncomingMessage;
    },
  };
  return { api: api as unknown as KubeApi, calls };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('ResourceWatcher', () => {
  it('relists on 410 Gone, reporting deletions it missed and skipping unchanged objects', async () => {
    const { api, calls } = fakeApi({
      lists: [
        { rv: '10', items: [pod('a', '1'), pod('b', '2')] },
        { rv: '20', items: [pod('a', '11'), pod('c', '12')] },
      ],
      watches: [
        { lines: [{ type: 'MODIFIED', object: pod('a', '11') }, { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 10 (15)' } }], end: false },
        { lines: [{ type: 'BOOKMARK', object: { metadata: { resourceVersion: '25' } } }], end: true },
        { lines: [], end: false },
      ],
    });
    const out: KubeRecord[] = [];
    const w = new ResourceWatcher({ api, resource: { kind: 'Pod', path: '/api/v1/pods' }, emit: (r) => out.push(...r), backoff: { initialMs: 1, maxMs: 5 } });
    w.start();
    await until(() => w.status().resourceVersion === '25' && calls.filter((c) => c.startsWith('WATCH')).length === 3);
    await w.stop();

    expect(out.map((r) => `${r.name}@${r.resourceVersion}${r.deleted ? ' deleted' : ''}`)).toEqual(['a@1', 'b@2', 'a@11', 'c@12', 'b@20 deleted']);
    expect(calls.filter((c) => c.startsWith('WATCH')).map((c) => new URL(c.slice(6), 'http://x').searchParams.get('resourceVersion'))).toEqual(['10', '20', '25']);
    expect(w.status()).toMatchObject({ lists: 2, goneRelists: 1, objects: 2, synced: true, failures: 0 });
  });

  it('retries a failing API with backoff, reports it, and syncs once the API answers', async () => {
    const { api } = fakeApi({ lists: [{ rv: '5', items: [pod('a', '1')] }], watches: [], failFirstList: true });
    const health: boolean[] = [];
    const out: KubeRecord[] = [];
    const w = new ResourceWatcher({ api, resource: { kind: 'Pod', path: '/api/v1/pods' }, emit: (r) => out.push(...r), onHealth: (ok) => health.push(ok), backoff: { initialMs: 1, maxMs: 5 } });
    w.start();
    await w.waitSynced();
    await w.stop();
    expect(health.slice(0, 2)).toEqual([false, true]);
    expect(w.status()).toMatchObject({ failures: 1, synced: true, lastError: expect.stringMatching(/ECONNREFUSED/) });
    expect(out.map((r) => r.name)).toEqual(['a']);
  });
});
