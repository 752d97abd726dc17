// Batches watcher records into ClickHouse: objects into kube_objects, Events into kube_events.
// Rows are written in arrival order, one insert at a time; a failed insert is retried with backoff
// and its rows kept, so a store outage delays data but loses none.
import { Backoff, sleep } from '../../core/backoff.ts';
import type { KubeRecord } from '../../core/types.ts';
import type { Store } from '../../store/store.ts';
import { toEventRow, toObjectRow } from './records.ts';

export interface KubeWriterOptions {
  store: Store;
  /** Flush when this many rows wait (default 5,000). */
  batchSize?: number;
  /** Flush at least this often (default 500 ms: fewer, larger parts for chDB to merge). */
  flushIntervalMs?: number;
  onError?: (err: Error) => void;
}

export class KubeWriter {
  private objects: string[] = [];
  private events: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private closed = false;
  readonly stats = { recordsIn: 0, objectRowsWritten: 0, eventRowsWritten: 0, inserts: 0, insertFailures: 0 };

  constructor(private readonly o: KubeWriterOptions) {}

  write(records: readonly KubeRecord[]): void {
    for (const r of records) {
      this.stats.recordsIn++;
      if (r.kind === 'Event') {
        // An Event's deletion is its TTL running out in the cluster: nothing to record.
        if (!r.deleted) this.events.push(JSON.stringify(toEventRow(r)));
      } else {
        this.objects.push(JSON.stringify(toObjectRow(r)));
      }
    }
    if (this.pending >= (this.o.batchSize ?? 5000)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.o.flushIntervalMs ?? 500);
  }

  get pending(): number {
    return this.objects.length + this.events.length;
  }

  /** Writes everything buffered so far; resolves once it is in the store. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // One flush at a time keeps rows in order; a flush asked for meanwhile runs right after.
    while (this.flushing) await this.flushing;
    if (this.pending === 0) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async drain(): Promise<void> {
    const backoff = new Backoff({ initialMs: 200, maxMs: 10_000 });
    while (this.pending > 0) {
      const objects = this.objects;
      const events = this.events;
      this.objects = [];
      this.events = [];
      try {
        if (objects.length) {
          await this.o.store.insertJsonEachRow('kube_objects', objects.join('\n'));
          this.stats.objectRowsWritten += objects.length;
          this.stats.inserts++;
        }
        if (events.length) {
          await this.o.store.insertJsonEachRow('kube_events', events.join('\n'));
          this.stats.eventRowsWritten += events.length;
          this.stats.inserts++;
        }
        backoff.reset();
      } catch (err) {
        this.stats.insertFailures++;
        this.o.onError?.(err as Error);
        // Put the rows back in front of anything that arrived meanwhile; an insert that failed
        // half-way may write twice, which ReplacingMergeTree folds.
        this.objects = objects.concat(this.objects);
        this.events = events.concat(this.events);
        if (this.closed) throw err;
        await sleep(backoff.next());
      }
    }
  }

  /** Final flush: a store that still fails now makes close() throw rather than retry forever. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }
}
