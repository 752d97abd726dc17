// The writer's write-ahead log: what makes a 202 mean "kept". Each accepted batch is appended to
// the current segment and fsynced before the HTTP answer goes out; appends that arrive while a sync
// runs share the next one (group commit), so the cost is one fdatasync per burst, not per request.
// A segment is deleted once every batch in it has been written to the store or moved to the disk
// spool (both durable). After a crash, `open` returns the records of the segments left behind.
//
// Record: u32 header length, u32 body length, u32 CRC-32 of header+body, header (JSON), body.
// A torn tail (a crash mid-append) fails its length or CRC check; those bytes were never
// acknowledged, so reading stops there.
import { crc32 } from 'node:zlib';
import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const SEGMENT = /^(\d{16})\.wal$/;
const PREFIX = 12;
/** A segment whose batches are all handled is closed early once it holds this much. */
const IDLE_ROTATE_BYTES = 1024 * 1024;

export interface WalHeader {
  /** Chunk id (the rows' batch_id) and row count. */
  id: number;
  rows: number;
  /** Opaque to the log: what the caller needs back after a crash (e.g. the resend tag). */
  meta?: Record<string, unknown>;
}

export interface WalRecord extends WalHeader {
  body: Buffer;
}

export interface WalOptions {
  dir: string;
  /** A segment is closed (and a new one started) beyond this size. */
  segmentBytes?: number;
}

interface Segment {
  seq: number;
  fh: FileHandle;
  bytes: number;
  /** Appended batches not yet written or spooled. */
  outstanding: number;
  closed: boolean;
}

interface Pending {
  /** The record's parts (prefix, header, body), written as they are: no copy of the body. */
  parts: Buffer[];
  bytes: number;
  resolve: (seg: number) => void;
  reject: (err: Error) => void;
}

export class WriteAheadLog {
  private current: Segment | null = null;
  private readonly segments = new Map<number, Segment>();
  private seq = 0;
  private pending: Pending[] = [];
  private syncing: Promise<void> | null = null;
  private readonly segmentBytes: number;
  /** Called before a fully handled segment is deleted (the resend guard checkpoints then). */
  beforeDelete: (() => Promise<void>) | null = null;

  constructor(private readonly opts: WalOptions) {
    this.segmentBytes = opts.segmentBytes ?? 16 * 1024 * 1024;
  }

  /** Reads what an earlier run left (oldest first) and returns it; new appends go to a new segment. */
  async open(): Promise<{ records: WalRecord[]; segments: number[] }> {
    await mkdir(this.opts.dir, { recursive: true });
    const found = (await readdir(this.opts.dir))
      .map((n) => SEGMENT.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const records: WalRecord[] = [];
    for (const seq of found) records.push(...parseSegment(await readFile(this.pathOf(seq))));
    this.seq = found.at(-1) ?? 0;
    return { records, segments: found };
  }

  /** Deletes segments of an earlier run once their records are safe elsewhere. */
  async dropRecovered(segments: number[]): Promise<void> {
    for (const seq of segments) await rm(this.pathOf(seq), { force: true });
  }

  /** Appends one record; resolves with its segment once it is on disk (fdatasync). */
  append(rec: WalRecord): Promise<number> {
    const header = Buffer.from(JSON.stringify({ id: rec.id, rows: rec.rows, ...(rec.meta ? { meta: rec.meta } : {}) }));
    const prefix = Buffer.alloc(PREFIX);
    prefix.writeUInt32LE(header.length, 0);
    prefix.writeUInt32LE(rec.body.length, 4);
    prefix.writeUInt32LE(crc32(rec.body, crc32(header)), 8);
    const parts = [prefix, header, rec.body];
    const bytes = PREFIX + header.length + rec.body.length;
    return new Promise<number>((resolve, reject) => {
      this.pending.push({ parts, bytes, resolve, reject });
      this.syncing ??= this.drain();
    });
  }

  /** One batch of `seg` is written or spooled; a closed segment with nothing outstanding goes. */
  async release(seg: number, count = 1): Promise<void> {
    const s = this.segments.get(seg);
    if (!s) return;
    s.outstanding -= count;
    if (s.outstanding > 0) return;
    if (s.closed) await this.delete(s);
    // A quiet plane would otherwise keep appending to one segment until it is full.
    else if (s === this.current && s.bytes >= IDLE_ROTATE_BYTES && this.pending.length === 0 && !this.syncing) await this.rotate();
  }

  /** Bytes in segments still held (for /readyz and tests). */
  get heldSegments(): number {
    return this.segments.size;
  }

  async close(): Promise<void> {
    while (this.syncing) await this.syncing;
    // Segments are about to go: what they alone held (the resend tags) must be checkpointed first,
    // or an agent resending across this orderly restart would be stored twice.
    if ([...this.segments.values()].some((s) => s.outstanding <= 0)) await this.beforeDelete?.();
    for (const s of [...this.segments.values()]) {
      await s.fh.close().catch(() => undefined);
      if (s.outstanding <= 0) await rm(this.pathOf(s.seq), { force: true });
    }
    this.segments.clear();
    this.current = null;
  }

  private pathOf(seq: number): string {
    return join(this.opts.dir, `${String(seq).padStart(16, '0')}.wal`);
  }

  /** Writes and syncs everything pending, in arrival order, until nothing is left. */
  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const group = this.pending;
        this.pending = [];
        try {
          const seg = await this.segmentFor();
          const bytes = group.reduce((n, p) => n + p.bytes, 0);
          await writeAll(seg.fh, group.flatMap((p) => p.parts), seg.bytes);
          await seg.fh.datasync();
          seg.bytes += bytes;
          seg.outstanding += group.length;
          for (const p of group) p.resolve(seg.seq);
          if (seg.bytes >= this.segmentBytes) await this.rotate();
        } catch (err) {
          for (const p of group) p.reject(err as Error);
        }
      }
    } finally {
      this.syncing = null;
    }
  }

  private async segmentFor(): Promise<Segment> {
    if (this.current) return this.current;
    const seq = ++this.seq;
    const fh = await open(this.pathOf(seq), 'a');
    const s: Segment = { seq, fh, bytes: 0, outstanding: 0, closed: false };
    this.segments.set(seq, s);
    this.current = s;
    return s;
  }

  private async rotate(): Promise<void> {
    const s = this.current;
    if (!s) return;
    this.current = null;
    s.closed = true;
    if (s.outstanding <= 0) await this.delete(s);
  }

  private async delete(s: Segment): Promise<void> {
    if (!this.segments.delete(s.seq)) return;
    await s.fh.close().catch(() => undefined);
    await this.beforeDelete?.();
    await rm(this.pathOf(s.seq), { force: true });
  }
}

/** Writes every buffer at `position` with writev, continuing after a short write. */
async function writeAll(fh: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let rest = buffers;
  let at = position;
  // writev takes at most IOV_MAX (1024) buffers per call on Linux; a group can hold more.
  while (rest.length > 0) {
    const slice = rest.slice(0, 1024);
    const want = slice.reduce((n, b) => n + b.length, 0);
    const { bytesWritten } = await fh.writev(slice, at);
    at += bytesWritten;
    if (bytesWritten === want) {
      rest = rest.slice(slice.length);
      continue;
    }
    // A short write: drop what went out and go on from the first buffer not fully written.
    let done = bytesWritten;
    let i = 0;
    while (done >= slice[i]!.length) done -= slice[i++]!.length;
    rest = [slice[i]!.subarray(done), ...rest.slice(i + 1)];
  }
}

/** The complete records of one segment; stops at the first torn or corrupt one. */
export function parseSegment(bytes: Buffer): WalRecord[] {
  const out: WalRecord[] = [];
  let at = 0;
  while (at + PREFIX <= bytes.length) {
    const hl = bytes.readUInt32LE(at);
    const bl = bytes.readUInt32LE(at + 4);
    const crc = bytes.readUInt32LE(at + 8);
    const end = at + PREFIX + hl + bl;
    if (hl === 0 || end > bytes.length) break;
    const header = bytes.subarray(at + PREFIX, at + PREFIX + hl);
    const body = bytes.subarray(at + PREFIX + hl, end);
    if (crc32(body, crc32(header)) !== crc) break;
    let h: WalHeader;
    try {
      h = JSON.parse(header.toString('utf8')) as WalHeader;
    } catch {
      break;
    }
    out.push({ ...h, body: Buffer.from(body) });
    at = end;
  }
  return out;
}
