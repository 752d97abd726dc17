// List-then-watch of one resource of one cluster, the way client-go's reflector does it:
// a paginated list gives the state and a resourceVersion; a watch from that version streams the
// changes (with bookmarks keeping the version fresh); a watch that ends is reopened from the last
// version seen; 410 Gone (version compacted away) means relist, and a relist also notices objects
// deleted while nobody watched. Connection failures are retried with backoff, never thrown.
import { createInterface } from 'node:readline';
import { Backoff, sleep } from '../../core/backoff.ts';
import type { KubeRecord } from '../../core/types.ts';
import { KubeApiError, type KubeApi } from './api-client.ts';
import { toKubeRecord, type KubeObject, type ResourceSpec } from './records.ts';

export interface ResourceWatchStatus {
  kind: string;
  synced: boolean;
  resourceVersion: string;
  objects: number;
  lists: number;
  watches: number;
  goneRelists: number;
  failures: number;
  lastError: string | null;
  lastSyncAt: number | null;
  /** How long the last complete list took (all pages), ms. */
  lastListMs: number | null;
}

export interface ResourceWatcherOptions {
  api: KubeApi;
  resource: ResourceSpec;
  /** Receives records in order; called synchronously from the stream (must not block). */
  emit: (records: KubeRecord[]) => void;
  /** Told about every failure and every recovery so the cluster can be reported reachable or not. */
  onHealth?: (ok: boolean, err?: Error) => void;
  pageSize?: number;
  /** Server-side watch duration; the watch is then reopened from the last version. */
  watchTimeoutSeconds?: number;
  backoff?: { initialMs: number; maxMs: number };
}

interface WatchLine {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; message?: string; reason?: string };
}

interface Known {
  rv: string;
  namespace: string;
  name: string;
}

export class ResourceWatcher {
  private readonly known = new Map<string, Known>();
  private rv = '';
  private needList = true;
  private readonly abort = new AbortController();
  private running: Promise<void> | null = null;
  private readonly st: ResourceWatchStatus;
  private readonly syncedWaiters: (() => void)[] = [];

  constructor(private readonly o: ResourceWatcherOptions) {
    this.st = {
      kind: o.resource.kind,
      synced: false,
      resourceVersion: '',
      objects: 0,
      lists: 0,
      watches: 0,
      goneRelists: 0,
      failures: 0,
      lastError: null,
      lastSyncAt: null,
      lastListMs: null,
    };
  }

  status(): ResourceWatchStatus {
    return { ...this.st, resourceVersion: this.rv, objects: this.known.size };
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  /** Resolves after the first complete list (the watcher keeps trying until then). */
  waitSynced(): Promise<void> {
    if (this.st.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncedWaiters.push(resolve));
  }

  private async loop(): Promise<void> {
    const backoff = new Backoff(this.o.backoff ?? { initialMs: 250, maxMs: 30_000 });
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        if (this.needList) {
          await this.list(signal);
          backoff.reset();
          this.o.onHealth?.(true);
        }
        if (signal.aborted) break;
        const healthy = await this.watch(signal);
        if (healthy) {
          backoff.reset();
          this.o.onHealth?.(true);
        } else {
          // Accepted and closed at once with nothing said: a server going down; don't spin.
          await sleep(backoff.next(), signal);
        }
      } catch (err) {
        if (signal.aborted) break;
        const e = err as Error;
        if (e instanceof KubeApiError && e.status === 410) {
          // Our version was compacted away: only a fresh list can tell what changed.
          this.st.goneRelists++;
          this.needList = true;
          continue;
        }
        this.st.failures++;
        this.st.lastError = e.message;
        this.o.onHealth?.(false, e);
        await sleep(backoff.next(), signal);
      }
    }
  }

  private async list(signal: AbortSignal): Promise<void> {
    const started = Date.now();
    const limit = this.o.pageSize ?? 500;
    const seen = new Set<string>();
    let cont = '';
    let listRv = '';
    for (;;) {
      const q = new URLSearchParams({ limit: String(limit) });
      if (cont) q.set('continue', cont);
      let page: { metadata: { resourceVersion: string; continue?: string }; items: KubeObject[] };
      try {
        page = await this.o.api.get(`${this.o.resource.path}?${q}`, signal);
      } catch (err) {
        // An expired continue token: start the list over (the caller's retry loop would do the same).
        if (err instanceof KubeApiError && err.status === 410 && cont) {
          seen.clear();
          cont = '';
          continue;
        }
        throw err;
      }
      listRv = page.metadata.resourceVersion;
      const now = Date.now();
      const out: KubeRecord[] = [];
      for (const item of page.items) {
        const uid = item.metadata.uid;
        seen.add(uid);
        const prev = this.known.get(uid);
        if (prev?.rv === item.metadata.resourceVersion) continue;
        this.known.set(uid, { rv: item.metadata.resourceVersion, namespace: item.metadata.namespace ?? '', name: item.metadata.name });
        out.push(toKubeRecord(this.o.api.cluster, this.o.resource.kind, item, false, now));
      }
      if (out.length) this.o.emit(out);
      cont = page.metadata.continue ?? '';
      if (!cont) break;
    }
    // Objects we knew that the list no longer has were deleted while we were not watching.
    const gone: KubeRecord[] = [];
    const now = Date.now();
    for (const [uid, k] of this.known) {
      if (seen.has(uid)) continue;
      this.known.delete(uid);
      gone.push(this.deletionRecord(uid, k, listRv, now));
    }
    if (gone.length) this.o.emit(gone);
    this.rv = listRv;
    this.needList = false;
    this.st.lists++;
    this.st.lastSyncAt = Date.now();
    this.st.lastListMs = this.st.lastSyncAt - started;
    if (!this.st.synced) {
      this.st.synced = true;
      for (const w of this.syncedWaiters.splice(0)) w();
    }
  }

  private deletionRecord(uid: string, k: Known, rv: string, ts: number): KubeRecord {
    const obj: KubeObject = { kind: this.o.resource.kind, metadata: { uid, name: k.name, namespace: k.namespace, resourceVersion: rv } };
    return toKubeRecord(this.o.api.cluster, this.o.resource.kind, obj, true, ts);
  }

  /** One watch request. Returns false when the server closed it at once without a word. */
  private async watch(signal: AbortSignal): Promise<boolean> {
    const timeout = this.o.watchTimeoutSeconds ?? 60 + Math.floor(Math.random() * 60);
    const q = new URLSearchParams({
      watch: '1',
      resourceVersion: this.rv,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(timeout),
    });
    const res = await this.o.api.open('GET', `${this.o.resource.path}?${q}`, { signal, timeoutMs: 30_000 });
    if (res.statusCode !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      let msg = Buffer.concat(chunks).toString('utf8').slice(0, 300);
      try {
        msg = (JSON.parse(msg) as { message?: string }).message ?? msg;
      } catch {
        /* keep raw text */
      }
      throw new KubeApiError(res.statusCode ?? 0, `watch ${this.o.resource.path}: ${res.statusCode} ${msg}`);
    }
    this.st.watches++;
    // A server that vanishes without closing the connection: give up after the watch's own
    // duration plus a margin, as the server would have ended it by then.
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => res.destroy(new Error(`watch ${this.o.resource.kind}: no data for ${timeout + 30} s`)), (timeout + 30) * 1000);
    };
    armIdle();
    res.on('data', armIdle);
    let gone: KubeApiError | null = null;
    const openedAt = Date.now();
    let lineCount = 0;
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (!line) continue;
        lineCount++;
        let ev: WatchLine;
        try {
          ev = JSON.parse(line) as WatchLine;
        } catch {
          continue;
        }
        const obj = ev.object;
        if (ev.type === 'ERROR') {
          const code = obj.code ?? 0;
          gone = new KubeApiError(code, `watch ${this.o.resource.kind}: ${obj.message ?? 'error event'}`, obj.reason ?? '');
          break;
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv) this.rv = rv;
        if (ev.type === 'BOOKMARK') continue;
        const uid = obj.metadata.uid;
        if (ev.type === 'DELETED') {
          this.known.delete(uid);
          this.o.emit([toKubeRecord(this.o.api.cluster, this.o.resource.kind, obj, true)]);
        } else {
          this.known.set(uid, { rv, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name });
          this.o.emit([toKubeRecord(this.o.api.cluster, this.o.resource.kind, obj, false)]);
        }
      }
    } catch (err) {
      if (signal.aborted) return true;
      throw err;
    } finally {
      clearTimeout(idle);
      res.destroy();
    }
    if (gone) {
      // 410: relist. Other error events (e.g. 500 from a restarting etcd) go through backoff.
      throw gone.status === 410 ? new KubeApiError(410, gone.message, 'Expired') : gone;
    }
    return lineCount > 0 || Date.now() - openedAt > 1000;
  }
}
