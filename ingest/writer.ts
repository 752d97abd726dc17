// The batching writer between ingest and the store. Accepted rows wait in a bounded in-memory
// queue; one flush at a time writes them as a single batch (size- or time-triggered). When the
// store fails, batches go to a disk spool in order and are replayed, oldest first, before anything
// newer is written, so nothing accepted is lost and order is kept. When memory and spool are both
// full, `enqueue` refuses with OverloadedError (HTTP 429 + Retry-After) instead of growing.
// With a write-ahead log (`accept`), a batch is on disk before it is acknowledged: a crash loses
// nothing accepted, and the log's records are moved to the spool at the next start.
import type { Logger } from 'pino';
import { Backoff, sleep } from '../core/backoff.ts';
import type { Component } from '../core/component.ts';
import { OverloadedError, StoreUnavailableError, UnavailableError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import type { IngestMetrics } from './metrics.ts';
import { DiskSpool, type SpooledBatch } from './spool.ts';
import type { WriteAheadLog } from './wal.ts';

export interface WriterOptions {
  table: string;
  batchSize: number;
  flushIntervalMs: number;
  maxQueueSamples: number;
  maxSpoolBytes: number;
  spoolDir: string;
  retryInitialMs: number;
  retryMaxMs: number;
  /** Non-connection failures of one spooled batch before it is quarantined. */
  maxBatchFailures?: number;
  /** Makes `accept` durable; recovered at `start`. */
  wal?: WriteAheadLog;
  /** Receives the `meta` of every record recovered from the log, before its segments are dropped. */
  onRecovered?: (metas: Record<string, unknown>[]) => Promise<void>;
}

const NEWLINE = Buffer.from('\n');

interface Chunk {
  /** JSONEachRow bytes. Held as a Buffer: compact, off the V8 heap, no string ropes to flatten. */
  body: Buffer;
  rows: number;
  /** Range of chunk ids (the rows' batch_id column) this batch holds. */
  lo: number;
  hi: number;
  /** Write-ahead log segments holding this batch's chunks, one entry per chunk. */
  segs: number[];
}

export class BatchWriter implements Component {
  readonly name: string;
  private queue: Chunk[] = [];
  private queuedRows = 0;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly spool: DiskSpool;
  private readonly backoff: Backoff;
  private storeHealthy = true;
  private batchFailures = 0;
  private inFlight = 0;
  /** Rows written since start; the benchmark and tests read it. */
  written = 0;
  private lastChunkId = 0;
  /** Rows admitted by `accept` and waiting for their log append: they count against the bound. */
  private reserved = 0;

  constructor(
    private readonly store: Store,
    private readonly opts: WriterOptions,
    private readonly metrics: IngestMetrics,
    private readonly log: Logger,
  ) {
    this.name = `writer:${opts.table}`;
    this.spool = new DiskSpool(opts.spoolDir);
    this.backoff = new Backoff({ initialMs: opts.retryInitialMs, maxMs: opts.retryMaxMs });
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.spool.init();
    if (this.opts.wal) await this.recover(this.opts.wal);
    this.metrics.spooledBatches.set(this.spool.length);
    if (this.spool.length > 0) this.log.info({ batches: this.spool.length }, 'replaying spooled batches from an earlier run');
    this.running = true;
    this.loop = this.run();
  }

  /**
   * A unique, increasing id for the next chunk of rows, written into each row's `batch_id`. Ids
   * grow across restarts too (they start from the clock), so a batch is a contiguous id range.
   */
  nextChunkId(): number {
    this.lastChunkId = Math.max(this.lastChunkId + 1, Date.now() * 1000);
    return this.lastChunkId;
  }

  /**
   * Batches an earlier run acknowledged but did not write go to the spool, one spool file per log
   * record: the spool's replay checks each record's id in the store first, so a record that had
   * landed before the crash (or was spooled and is in the log still) is not written twice.
   */
  private async recover(wal: WriteAheadLog): Promise<void> {
    const { records, segments } = await wal.open();
    for (const r of records) await this.spool.append({ body: r.body, rows: r.rows, lo: r.id, hi: r.id });
    await this.opts.onRecovered?.(records.flatMap((r) => (r.meta ? [r.meta] : [])));
    await wal.dropRecovered(segments);
    if (records.length > 0) this.log.info({ batches: records.length, rows: records.reduce((n, r) => n + r.rows, 0) }, 'recovered acknowledged batches from the write-ahead log');
  }

  /** Throws OverloadedError when `rows` more would not fit; ingest asks before reading a body. */
  checkRoom(rows = 1): void {
    if (this.queuedRows + this.reserved + rows > this.opts.maxQueueSamples) {
      const retryAfter = Math.max(1, Math.ceil(this.opts.flushIntervalMs / 1000) * (this.storeHealthy ? 1 : 5));
      throw new OverloadedError(`write queue full (${this.queuedRows} samples waiting); retry later`, retryAfter);
    }
  }

  /**
   * Accepts pre-encoded rows durably: resolves once they are in the write-ahead log (then queued),
   * so the caller may acknowledge. Without a log this is `enqueue`. Throws OverloadedError when full.
   */
  async accept(body: string | Buffer, rows: number, chunkId: number, meta?: Record<string, unknown>): Promise<void> {
    const wal = this.opts.wal;
    if (!wal) return this.enqueue(body, rows, chunkId);
    this.checkRoom(rows);
    this.reserved += rows;
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    let seg: number;
    try {
      seg = await wal.append({ id: chunkId, rows, body: buf, meta });
    } catch (err) {
      // Not on disk, so not acknowledged: the sender keeps the batch and retries.
      this.log.error({ err: (err as Error).message }, 'write-ahead log append failed');
      throw new UnavailableError(`cannot make the batch durable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); retry later`, 5);
    } finally {
      this.reserved -= rows;
    }
    this.push({ body: buf, rows, lo: chunkId, hi: chunkId, segs: [seg] });
  }

  /** Queues pre-encoded JSONEachRow rows. Throws OverloadedError when full; never blocks. */
  enqueue(body: string | Buffer, rows: number, chunkId: number): void {
    this.checkRoom(rows);
    this.push({ body: typeof body === 'string' ? Buffer.from(body) : body, rows, lo: chunkId, hi: chunkId, segs: [] });
  }

  private push(chunk: Chunk): void {
    const rows = chunk.rows;
    this.queue.push(chunk);
    this.queuedRows += rows;
    this.metrics.queueDepth.set(this.queuedRows);
    if (this.queuedRows >= this.opts.batchSize) this.wake?.();
  }

  get depth(): number {
    return this.queuedRows;
  }

  get spooled(): number {
    return this.spool.length;
  }

  get healthy(): boolean {
    return this.storeHealthy;
  }

  private take(): Chunk | null {
    if (this.queue.length === 0) return null;
    const parts: Buffer[] = [];
    const segs: number[] = [];
    let rows = 0;
    const lo = this.queue[0]!.lo;
    let hi = lo;
    while (this.queue.length > 0 && rows < this.opts.batchSize) {
      const c = this.queue.shift()!;
      if (parts.length > 0) parts.push(NEWLINE);
      parts.push(c.body);
      segs.push(...c.segs);
      rows += c.rows;
      hi = c.hi;
    }
    this.queuedRows -= rows;
    this.metrics.queueDepth.set(this.queuedRows);
    return { body: parts.length === 1 ? parts[0]! : Buffer.concat(parts), rows, lo, hi, segs };
  }

  private async run(): Promise<void> {
    while (this.running || this.queue.length > 0) {
      if (this.queuedRows < this.opts.batchSize && this.running && this.spool.length === 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.opts.flushIntervalMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = null;
      }
      await this.cycle();
    }
  }

  /** One step: replay the spool if it has anything, otherwise write the next batch. */
  private async cycle(): Promise<void> {
    if (this.spool.length > 0) {
      const replayed = await this.replayOne();
      if (!replayed) {
        // Store still down: move memory to disk so the queue keeps room, unless the spool is full.
        if (this.spool.sizeBytes < this.opts.maxSpoolBytes) await this.spoolMemory();
        if (this.running) await sleep(this.backoff.next());
      }
      return;
    }
    const batch = this.take();
    if (!batch) return;
    this.inFlight += batch.rows;
    try {
      if (!(await this.write(batch))) {
        await this.spool.append(batch);
        this.metrics.spooledBatches.set(this.spool.length);
      }
      await this.released(batch);
    } finally {
      this.inFlight -= batch.rows;
    }
  }

  private async spoolMemory(): Promise<void> {
    for (let batch = this.take(); batch; batch = this.take()) {
      await this.spool.append(batch);
      await this.released(batch);
      if (this.spool.sizeBytes >= this.opts.maxSpoolBytes) break;
    }
    this.metrics.spooledBatches.set(this.spool.length);
  }

  /** The batch is in the store or the spool: its log records are no longer needed. */
  private async released(batch: Chunk): Promise<void> {
    const wal = this.opts.wal;
    if (!wal) return;
    const bySeg = new Map<number, number>();
    for (const s of batch.segs) bySeg.set(s, (bySeg.get(s) ?? 0) + 1);
    for (const [seg, n] of bySeg) await wal.release(seg, n);
  }

  private async replayOne(): Promise<boolean> {
    const batch = await this.spool.peek();
    if (!batch) return true;
    const ok = (await this.alreadyWritten(batch)) || (await this.write(batch));
    if (ok) {
      await this.spool.remove(batch);
      this.metrics.spooledBatches.set(this.spool.length);
      if (this.spool.length === 0) this.log.info('spool drained; store writes back to normal');
      return true;
    }
    if (this.storeHealthy && ++this.batchFailures >= (this.opts.maxBatchFailures ?? 5)) {
      // The store is up but refuses this batch: set aside only the requests it refuses (one bad
      // request must not take other nodes' accepted rows with it), rather than block everything.
      const parts = splitByChunk(batch.body);
      if (parts.length > 1) return this.salvage(batch, parts);
      const dest = await this.spool.quarantine(batch);
      this.batchFailures = 0;
      this.metrics.spooledBatches.set(this.spool.length);
      this.log.error({ dest, rows: batch.rows }, 'store keeps rejecting a spooled batch; quarantined');
      return true;
    }
    return false;
  }

  /**
   * Writes a refused batch one request (chunk id) at a time and quarantines only those the store
   * refuses. Crash-safe: the batch stays in the spool until done, and each part is checked by its
   * own id first, so a part written before a crash is not written again.
   */
  private async salvage(batch: SpooledBatch, parts: Omit<Chunk, 'segs'>[]): Promise<boolean> {
    const refused: Omit<Chunk, 'segs'>[] = [];
    for (const part of parts) {
      if ((await this.alreadyWritten(part)) || (await this.write(part))) continue;
      if (!this.storeHealthy) return false; // the store went away meanwhile: retry the rest later
      refused.push(part);
    }
    const dests: string[] = [];
    for (const part of refused) dests.push(await this.spool.bury(part));
    await this.spool.remove(batch);
    this.batchFailures = 0;
    this.metrics.spooledBatches.set(this.spool.length);
    this.log.error({ dests, refusedRows: refused.reduce((n, p) => n + p.rows, 0), writtenRows: batch.rows - refused.reduce((n, p) => n + p.rows, 0) }, 'store refused part of a spooled batch; only the refused requests quarantined');
    return true;
  }

  /**
   * A batch whose insert failed may still have landed (the server died after committing, before
   * answering). Its id range tells: all rows there means done, none means insert it.
   */
  private async alreadyWritten(batch: Omit<Chunk, 'segs'>): Promise<boolean> {
    try {
      const [row] = await this.store.query<{ c: string | number }>(
        `SELECT count() AS c FROM ${this.opts.table} WHERE batch_id >= {lo:UInt64} AND batch_id <= {hi:UInt64}`,
        { lo: batch.lo, hi: batch.hi },
      );
      const found = Number(row?.c ?? 0);
      if (found === 0) return false;
      if (found === batch.rows) {
        this.log.info({ rows: batch.rows }, 'spooled batch had already landed before the failure; not writing it twice');
        return true;
      }
      // A partial batch cannot come from one insert; report it loudly and let the insert go ahead.
      this.log.error({ found, rows: batch.rows }, 'spooled batch partially present in the store');
      return false;
    } catch {
      return false;
    }
  }

  private async write(batch: Omit<Chunk, 'segs'>): Promise<boolean> {
    const end = this.metrics.flushSeconds.startTimer();
    this.inFlight += batch.rows;
    try {
      await this.store.insertJsonEachRow(this.opts.table, batch.body);
      end();
      this.written += batch.rows;
      this.metrics.flushedSamples.inc(batch.rows);
      if (!this.storeHealthy) this.log.info('store is back');
      this.storeHealthy = true;
      this.batchFailures = 0;
      this.backoff.reset();
      return true;
    } catch (err) {
      this.metrics.storeErrors.inc({ op: 'insert' });
      const unavailable = err instanceof StoreUnavailableError;
      if (this.storeHealthy || !unavailable) this.log.warn({ err: (err as Error).message, rows: batch.rows }, 'store insert failed; batch spooled');
      this.storeHealthy = !unavailable;
      return false;
    } finally {
      this.inFlight -= batch.rows;
    }
  }

  /** Stops accepting, then writes (or spools) everything still in memory. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake?.();
    await this.loop;
    if (this.queue.length > 0) await this.spoolMemory();
    await this.opts.wal?.close();
  }

  /** Resolves when everything accepted so far is in the store (tests, benchmark, shutdown). */
  async drained(timeoutMs = 60_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.queuedRows === 0 && this.spool.length === 0 && !this.flushing) return true;
      this.wake?.();
      await sleep(20);
    }
    return false;
  }

  private get flushing(): boolean {
    return this.inFlight > 0;
  }
}

/** Splits JSONEachRow rows into one part per request, by each row's `batch_id`, in order. */
export function splitByChunk(body: Buffer): Omit<Chunk, 'segs'>[] {
  const parts = new Map<number, string[]>();
  for (const line of body.toString('utf8').split('\n')) {
    if (line.length === 0) continue;
    // The encoder writes batch_id right before labels; names and numbers before it hold no quotes.
    const m = /,"batch_id":(\d+),"labels":/.exec(line);
    const id = m ? Number(m[1]) : -1;
    let rows = parts.get(id);
    if (!rows) parts.set(id, (rows = []));
    rows.push(line);
  }
  return [...parts].map(([id, rows]) => ({ body: Buffer.from(rows.join('\n')), rows: rows.length, lo: id, hi: id }));
}
