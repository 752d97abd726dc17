// The write-ahead log on a real filesystem: what was appended comes back after a reopen, in order,
// torn or corrupt tails are cut off, and handled segments go away.
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSegment, WriteAheadLog } from './wal.ts';

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'whistle-wal-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function body(i: number, size = 64): Buffer {
  return Buffer.from(`{"row":${i}}`.padEnd(size, ' '));
}

describe('write-ahead log', () => {
  it('returns every appended record after a reopen, in order, with its metadata', async () => {
    const dir = freshDir();
    const wal = new WriteAheadLog({ dir });
    await wal.open();
    // More records than one writev takes (1024 buffers = 341 records of three parts each) in one group.
    const appends = Array.from({ length: 1500 }, (_, i) => wal.append({ id: i, rows: 1, body: body(i), meta: { tag: `t${i}` } }));
    await Promise.all(appends);
    // A crash: nothing closes the log; a new one reads what the old left.
    const again = new WriteAheadLog({ dir });
    const { records, segments } = await again.open();
    expect(segments.length).toBeGreaterThan(0);
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 1500 }, (_, i) => i));
    expect(records[7]!.body.equals(body(7))).toBe(true);
    expect(records[1499]!.meta).toEqual({ tag: 't1499' });
  });

  it('stops at a torn tail and at a record whose checksum does not match', async () => {
    const dir = freshDir();
    const wal = new WriteAheadLog({ dir });
    await wal.open();
    for (let i = 0; i < 3; i++) await wal.append({ id: i, rows: 1, body: body(i) });
    const file = join(dir, readdirSync(dir)[0]!);
    const size = statSync(file).size;
    const record = size / 3; // the three records have the same length
    truncateSync(file, size - 5);
    expect(parseSegment(readFileSync(file)).map((r) => r.id)).toEqual([0, 1]);

    const bytes = readFileSync(file);
    bytes[2 * record - 10]! ^= 0xff; // inside the second record's body
    writeFileSync(file, bytes);
    expect(parseSegment(readFileSync(file)).map((r) => r.id)).toEqual([0]);
  });

  it('deletes a closed segment once every batch in it is released', async () => {
    const dir = freshDir();
    const wal = new WriteAheadLog({ dir, segmentBytes: 256 });
    await wal.open();
    const seg = await wal.append({ id: 1, rows: 1, body: body(1, 300) });
    // The record filled the segment, so it is closed and a later append goes to a new one.
    const next = await wal.append({ id: 2, rows: 1, body: body(2) });
    expect(next).not.toBe(seg);
    expect(readdirSync(dir)).toHaveLength(2);
    await wal.release(seg);
    expect(readdirSync(dir)).toHaveLength(1);
    await wal.release(next);
    await wal.close();
    expect(readdirSync(dir)).toHaveLength(0);
  });
});
