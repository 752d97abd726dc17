// Recognises an agent batch that was already accepted: the agent resends a batch when the answer
// to its first try was lost (timeout, connection cut after the server queued it). Agents name each
// request `<epoch>:<seq>` (header x-whistle-batch), with seq increasing within an epoch; a request
// whose seq is not above the highest accepted for that node and epoch is a resend.
// Held in memory: a resend that crosses a management-plane restart is written again (at least once).
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
    if (tag) this.highest.set(nodeKey, tag);
  }
}
