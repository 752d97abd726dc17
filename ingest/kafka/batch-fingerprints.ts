// The durable side of the resend window (recent-batches.ts): each message's fingerprint is stored
// before its rows are handed to the writer, and a worker that gains a partition loads the
// partition's recent fingerprints first. A resend that straddles a restart or a change of owner is
// then dropped like one that does not. Stored before the rows so that no written batch lacks its
// fingerprint; a fingerprint whose rows never got written belongs to a message that is read again
// at the same offset, which the window treats as the same message, not as a resend.
import type { Store } from '../../store/store.ts';

export interface StoredFingerprint {
  offset: string;
  fingerprint: string;
  at: number;
}

export class BatchFingerprints {
  constructor(
    private readonly store: Store,
    private readonly maxAgeMs: number,
  ) {}

  /** Fingerprints of `partition` written within the window, oldest first. */
  async recent(partition: number, now = Date.now()): Promise<StoredFingerprint[]> {
    const rows = await this.store.query<{ offset: string | number; fingerprint: string; at: string | number }>(
      `SELECT toString(offset) AS offset, fingerprint, toUnixTimestamp64Milli(ts) AS at FROM kafka_batches
       WHERE partition = {partition:UInt32} AND ts >= fromUnixTimestamp64Milli(toInt64({since:Int64})) ORDER BY ts, offset`,
      { partition, since: now - this.maxAgeMs },
    );
    return rows.map((r) => ({ offset: String(r.offset), fingerprint: r.fingerprint, at: Number(r.at) }));
  }

  async record(partition: number, messages: { offset: string; fingerprint: string }[], now = Date.now()): Promise<void> {
    if (messages.length === 0) return;
    await this.store.insert(
      'kafka_batches',
      messages.map((m) => ({ ts: now, partition, offset: m.offset, fingerprint: m.fingerprint })),
    );
  }
}
