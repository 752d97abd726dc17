// Fingerprints of the batches a worker recently read, per partition. An agent whose request got a
// 503 although the broker did write the batch (the acknowledgement was lost with the broker) sends
// it again; both copies land in the same partition (same cluster key) seconds apart, so a bounded
// window of recent fingerprints is enough to drop the second copy. A worker that gains a partition
// seeds its window from the fingerprints stored by whoever wrote there before (batch-fingerprints.ts),
// so a resend that straddles a restart or a change of owner is dropped too.
export class RecentBatches {
  private readonly byPartition = new Map<number, Map<string, { offset: string; at: number }>>();

  constructor(
    private readonly maxPerPartition = 50_000,
    private readonly maxAgeMs = 15 * 60_000,
  ) {}

  /** The offset of an earlier message with this fingerprint, if any; records this one otherwise. */
  earlier(partition: number, fingerprint: string, offset: string, now = Date.now()): string | null {
    let recent = this.byPartition.get(partition);
    if (!recent) this.byPartition.set(partition, (recent = new Map()));
    const prev = recent.get(fingerprint);
    if (prev && prev.offset !== offset && now - prev.at <= this.maxAgeMs) return prev.offset;
    if (!prev || prev.offset !== offset) {
      recent.delete(fingerprint);
      recent.set(fingerprint, { offset, at: now });
    }
    // Map keeps insertion order: the first entries are the oldest.
    for (const [fp, e] of recent) {
      if (recent.size <= this.maxPerPartition && now - e.at <= this.maxAgeMs) break;
      recent.delete(fp);
    }
    return null;
  }

  /** Seeds the window with a message read earlier (by this worker or another), oldest first. */
  remember(partition: number, fingerprint: string, offset: string, at: number): void {
    let recent = this.byPartition.get(partition);
    if (!recent) this.byPartition.set(partition, (recent = new Map()));
    recent.delete(fingerprint);
    recent.set(fingerprint, { offset, at });
    if (recent.size > this.maxPerPartition) recent.delete(recent.keys().next().value!);
  }

  get windowMs(): number {
    return this.maxAgeMs;
  }

  /** A partition that changed hands: what this worker remembers about it is no longer complete. */
  forget(partition: number): void {
    this.byPartition.delete(partition);
  }
}
