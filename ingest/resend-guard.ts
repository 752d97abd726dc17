// Recognises an agent batch that was already accepted: the agent resends a batch when the answer
// to its first try was lost (timeout, connection cut after the server queued it). Agents name each
// request `<epoch>:<seq>` (header x-whistle-batch), with seq increasing within an epoch; a request
// whose seq is not above the highest accepted for that node and epoch is a resend.
// Embedded, the guard survives restarts: every accepted tag is in the write-ahead log record of its
// batch (fsynced before the 202), and the whole map is checkpointed to a file before a log
// segment is deleted; at start the checkpoint is read and the log's tags are applied on top.
import { open, readFile, rename } from 'node:fs/promises';
import { InputError } from '../core/errors.ts';

const HEADER = /^([A-Za-z0-9-]{1,64}):(\d{1,15})$/;

export interface BatchTag {
  epoch: string;
  seq: number;
}

export function parseBatchTag(header: string | string[] | undefined): BatchTag | undefined {
  if (header === undefined) return undefined;
  const m = HEADER.exec(Array.isArray(header) ? (header[0] ?? '') : header);
  if (!m) throw new InputError('x-whistle-batch header: expected "<epoch>:<sequence number>"');
  return { epoch: m[1]!, seq: Number(m[2]) };
}

export class ResendGuard {
  private readonly highest = new Map<string, BatchTag>();

  isResend(nodeKey: string, tag: BatchTag | undefined): boolean {
    if (!tag) return false;
    const h = this.highest.get(nodeKey);
    return h !== undefined && h.epoch === tag.epoch && tag.seq <= h.seq;
  }

  accepted(nodeKey: string, tag: BatchTag | undefined): void {
    if (!tag) return;
    const h = this.highest.get(nodeKey);
    // Recovery may apply tags out of order; a new epoch (agent restart) always replaces the old.
    if (h && h.epoch === tag.epoch && h.seq >= tag.seq) return;
    this.highest.set(nodeKey, tag);
  }

  /** Writes the map to `file` atomically and durably (temp file, fsync, rename). */
  async checkpoint(file: string): Promise<void> {
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(Object.fromEntries(this.highest)));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  }

  /** Reads a checkpoint; a missing file is an empty guard (first start). */
  async load(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const [k, v] of Object.entries(JSON.parse(text) as Record<string, BatchTag>)) this.accepted(k, v);
  }

  get size(): number {
    return this.highest.size;
  }
}
