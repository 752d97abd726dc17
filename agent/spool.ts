// The agent's on-disk queue: every collection is appended here before anything is sent, and the
// sender removes a batch only after the management plane answered 202. So a lost management plane
// (or a crash, or a restart) loses no sample, and the backlog is replayed in collection order.
//
// Layout: one file per batch in `dir`, named `<seq>-<samples>-<bytes>.json` (seq zero-padded, so name
// order is queue order; counts in the name let `open` rebuild the index without reading every file).
// Each file holds a JSON array of samples and is written temp + fsync + rename (atomic-file.ts).
//
// Bound: the total size of batch files stays <= maxBytes. When an append would exceed it the OLDEST
// batches are deleted first (fresh data is worth more than old data during a long outage) and the
// loss is counted in `droppedSamples` and logged. Batches leased to an in-flight request are never
// dropped; only when nothing else is left to drop (maxBytes smaller than about two batches) is the new
// batch itself dropped, again counted.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/log.ts';
import { fsyncDir, TEMP_PREFIX, unlinkIfExists, writeFileAtomic } from './atomic-file.ts';
import type { WireSample } from './collectors/types.ts';
import type { DeadLetter } from './dead-letter.ts';

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** Appends are cut into files of at most this many samples / bytes, so any file fits one request. */
  maxBatchSamples: number;
  maxBatchBytes: number;
  deadLetter: DeadLetter;
  logger: Logger;
}

interface Entry {
  seq: number;
  samples: number;
  bytes: number;
  file: string;
  leased: boolean;
}

export interface Lease {
  /** The batch files, oldest first; hand back with `ack` or `release`. */
  readonly entries: readonly Entry[];
  readonly samples: WireSample[];
  readonly firstSeq: number;
  readonly lastSeq: number;
}

const FILE_NAME = /^(\d{16})-(\d+)-(\d+)\.json$/;

export class Spool {
  private readonly entries: Entry[] = [];
  private totalBytes = 0;
  private totalSamples = 0;
  private nextSeq = 1;
  private appendChain: Promise<void> = Promise.resolve();
  private waiters: (() => void)[] = [];
  droppedSamples = 0;
  droppedBatches = 0;

  private constructor(private readonly opts: SpoolOptions) {}

  /** Indexes what a previous run left behind (replayed first) and removes torn temp files. */
  static async open(opts: SpoolOptions): Promise<Spool> {
    const spool = new Spool(opts);
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(opts.dir)) {
      if (name.startsWith(TEMP_PREFIX)) {
        await unlinkIfExists(join(opts.dir, name));
        continue;
      }
      const m = FILE_NAME.exec(name);
      if (!m) continue;
      spool.entries.push({ seq: Number(m[1]), samples: Number(m[2]), bytes: Number(m[3]), file: join(opts.dir, name), leased: false });
    }
    spool.entries.sort((a, b) => a.seq - b.seq);
    for (const e of spool.entries) {
      spool.totalBytes += e.bytes;
      spool.totalSamples += e.samples;
    }
    spool.nextSeq = (spool.entries.at(-1)?.seq ?? 0) + 1;
    return spool;
  }

  get bytes(): number {
    return this.totalBytes;
  }
  get batches(): number {
    return this.entries.length;
  }
  get samples(): number {
    return this.totalSamples;
  }

  /** Appends samples durably (resolves after fsync). Appends are serialized, so order is kept. */
  append(samples: WireSample[]): Promise<void> {
    const run = this.appendChain.then(() => this.appendNow(samples));
    this.appendChain = run.catch(() => {});
    return run;
  }

  private async appendNow(samples: WireSample[]): Promise<void> {
    const chunks = this.chunk(samples);
    let dropped = 0;
    let droppedBatches = 0;
    for (const chunk of chunks) {
      const bytes = Buffer.byteLength(chunk.json);
      while (this.totalBytes + bytes > this.opts.maxBytes) {
        const oldest = this.entries.find((e) => !e.leased);
        if (!oldest) break;
        this.remove(oldest);
        await unlinkIfExists(oldest.file);
        dropped += oldest.samples;
        droppedBatches++;
      }
      if (this.totalBytes + bytes > this.opts.maxBytes) {
        dropped += chunk.count;
        droppedBatches++;
        continue;
      }
      const seq = this.nextSeq++;
      const file = join(this.opts.dir, `${String(seq).padStart(16, '0')}-${chunk.count}-${bytes}.json`);
      await writeFileAtomic(file, chunk.json, 0o600, false);
      this.entries.push({ seq, samples: chunk.count, bytes, file, leased: false });
      this.totalBytes += bytes;
      this.totalSamples += chunk.count;
    }
    if (chunks.length > 0) await fsyncDir(this.opts.dir);
    if (dropped > 0) {
      this.droppedSamples += dropped;
      this.droppedBatches += droppedBatches;
      this.opts.logger.warn(
        { droppedSamples: dropped, droppedBatches, droppedSamplesTotal: this.droppedSamples, maxSpoolBytes: this.opts.maxBytes },
        'agent spool full: dropped the oldest samples',
      );
    }
    this.wake();
  }

  private chunk(samples: WireSample[]): { json: string; count: number }[] {
    const chunks: { json: string; count: number }[] = [];
    let parts: string[] = [];
    let bytes = 2;
    for (const s of samples) {
      const json = JSON.stringify(s);
      const size = Buffer.byteLength(json) + 1;
      if (parts.length > 0 && (parts.length >= this.opts.maxBatchSamples || bytes + size > this.opts.maxBatchBytes)) {
        chunks.push({ json: `[${parts.join(',')}]`, count: parts.length });
        parts = [];
        bytes = 2;
      }
      parts.push(json);
      bytes += size;
    }
    if (parts.length > 0) chunks.push({ json: `[${parts.join(',')}]`, count: parts.length });
    return chunks;
  }

  /** Sequence number of the oldest batch not leased. */
  headSeq(): number | undefined {
    return this.entries.find((e) => !e.leased)?.seq;
  }

  /** Resolves when there is something to lease, or when `signal` aborts. */
  waitForData(signal: AbortSignal): Promise<void> {
    if (this.entries.some((e) => !e.leased) || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private wake(): void {
    for (const w of this.waiters.slice()) w();
  }

  /**
   * Leases the oldest batches, merged up to maxBatchSamples / maxBatchBytes and at most `maxEntries`
   * files. Unreadable files are moved to the dead-letter directory and skipped. Undefined when empty.
   * One lease at a time: the sender has a single request in flight, which is what keeps the order.
   */
  async lease(maxEntries = Infinity): Promise<Lease | undefined> {
    for (;;) {
      const picked: Entry[] = [];
      let samples = 0;
      let bytes = 0;
      for (const e of this.entries) {
        if (e.leased) continue;
        if (picked.length >= maxEntries) break;
        if (picked.length > 0 && (samples + e.samples > this.opts.maxBatchSamples || bytes + e.bytes > this.opts.maxBatchBytes)) break;
        picked.push(e);
        samples += e.samples;
        bytes += e.bytes;
      }
      if (picked.length === 0) return undefined;
      for (const e of picked) e.leased = true;

      const good: Entry[] = [];
      const all: WireSample[] = [];
      for (const e of picked) {
        try {
          const parsed: unknown = JSON.parse(await readFile(e.file, 'utf8'));
          if (!Array.isArray(parsed)) throw new Error('not a JSON array');
          good.push(e);
          for (const s of parsed as WireSample[]) all.push(s);
        } catch (err) {
          this.remove(e);
          const moved = await this.opts.deadLetter.adopt(e.file).catch(() => undefined);
          this.opts.logger.error({ err, file: e.file, movedTo: moved }, 'agent spool: unreadable batch file moved to dead-letter');
        }
      }
      if (good.length === 0) continue;
      return { entries: good, samples: all, firstSeq: good[0]!.seq, lastSeq: good.at(-1)!.seq };
    }
  }

  /** The batches were delivered (or dead-lettered): delete them. */
  async ack(lease: Lease): Promise<void> {
    for (const e of lease.entries) {
      this.remove(e);
      await unlinkIfExists(e.file);
    }
  }

  /** The batches were not delivered: they stay at the head of the queue. */
  release(lease: Lease): void {
    for (const e of lease.entries) e.leased = false;
    if (lease.entries.length > 0) this.wake();
  }

  private remove(e: Entry): void {
    const i = this.entries.indexOf(e);
    if (i < 0) return;
    this.entries.splice(i, 1);
    this.totalBytes -= e.bytes;
    this.totalSamples -= e.samples;
  }

  /** Waits for appends in progress (used when stopping). */
  async flush(): Promise<void> {
    await this.appendChain;
  }
}
