// An ordered on-disk queue of batches: the writer's refuge while the store is down. Each batch is
// one file named by a monotonically increasing sequence number, written to a temporary name, synced
// and renamed, so a crash leaves either the whole batch or none of it.
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const FILE = /^(\d{16})\.batch$/;

export interface BatchToSpool {
  body: Buffer;
  rows: number;
  lo: number;
  hi: number;
}

export interface SpooledBatch extends BatchToSpool {
  seq: number;
  path: string;
}

export class DiskSpool {
  private seq = 0;
  private files: number[] = [];
  private bytes = 0;
  private ready: Promise<void> | null = null;

  constructor(readonly dir: string) {}

  /** Scans what an earlier run left behind; those batches are replayed first. */
  init(): Promise<void> {
    this.ready ??= (async () => {
      await mkdir(this.dir, { recursive: true });
      await mkdir(join(this.dir, 'dead'), { recursive: true });
      for (const name of await readdir(this.dir)) {
        const m = FILE.exec(name);
        if (m) {
          this.files.push(Number(m[1]));
          this.bytes += (await stat(join(this.dir, name))).size;
        } else if (name.endsWith('.tmp')) await rm(join(this.dir, name), { force: true });
      }
      this.files.sort((a, b) => a - b);
      this.seq = this.files.at(-1) ?? 0;
    })();
    return this.ready;
  }

  get length(): number {
    return this.files.length;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  private pathOf(seq: number): string {
    return join(this.dir, `${String(seq).padStart(16, '0')}.batch`);
  }

  async append(batch: BatchToSpool): Promise<void> {
    await this.init();
    const seq = ++this.seq;
    const path = this.pathOf(seq);
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      // First line: what the batch is (rows and chunk id range); the rest: its JSONEachRow body.
      await fh.writeFile(Buffer.concat([Buffer.from(`${JSON.stringify({ rows: batch.rows, lo: batch.lo, hi: batch.hi })}\n`), batch.body]));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    this.files.push(seq);
    this.bytes += (await stat(path)).size;
  }

  async peek(): Promise<SpooledBatch | null> {
    await this.init();
    const seq = this.files[0];
    if (seq === undefined) return null;
    const path = this.pathOf(seq);
    const bytes = await readFile(path);
    const nl = bytes.indexOf(0x0a);
    const head = JSON.parse(bytes.subarray(0, nl).toString('utf8')) as { rows: number; lo: number; hi: number };
    return { seq, path, ...head, body: bytes.subarray(nl + 1) };
  }

  async remove(batch: SpooledBatch): Promise<void> {
    const size = (await stat(batch.path)).size;
    await rm(batch.path, { force: true });
    this.files = this.files.filter((s) => s !== batch.seq);
    this.bytes -= size;
  }

  /** Writes a part of a batch straight to dead/ (durably), for the part the store refuses. */
  async bury(batch: BatchToSpool): Promise<string> {
    await this.init();
    const dest = join(this.dir, 'dead', `${String(++this.seq).padStart(16, '0')}.batch`);
    const fh = await open(`${dest}.tmp`, 'w');
    try {
      await fh.writeFile(Buffer.concat([Buffer.from(`${JSON.stringify({ rows: batch.rows, lo: batch.lo, hi: batch.hi })}\n`), batch.body]));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(`${dest}.tmp`, dest);
    return dest;
  }

  /** A batch the store keeps refusing is set aside, not retried forever, and not deleted. */
  async quarantine(batch: SpooledBatch): Promise<string> {
    const size = (await stat(batch.path)).size;
    const dest = join(this.dir, 'dead', `${String(batch.seq).padStart(16, '0')}.batch`);
    await rename(batch.path, dest);
    this.files = this.files.filter((s) => s !== batch.seq);
    this.bytes -= size;
    return dest;
  }
}
