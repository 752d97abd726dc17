// Per-sender request limits: one token bucket per key (an authenticated node, or a source address
// for routes without a node token). A sender over its rate gets RateLimitedError (429 with
// Retry-After) while every other sender keeps its own budget, so one agent stuck in a retry loop
// cannot starve the rest of the fleet.
import { RateLimitedError } from '../core/errors.ts';

export interface RateLimitOptions {
  /** Tokens added per second (the sustained request rate). */
  ratePerSecond: number;
  /** Bucket size: requests allowed at once on top of the rate. */
  burst: number;
  /**
   * Keys tracked at most. Source addresses are not bounded by the node registry, so a flood of
   * distinct addresses must not grow this without end; see `forgetIdle`.
   */
  maxKeys?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly opts: RateLimitOptions) {
    this.maxKeys = opts.maxKeys ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  /** Spends one token of `key`'s bucket, or throws RateLimitedError naming `who`. */
  take(key: string, who: string = key): void {
    const now = this.now();
    const b = this.refilled(key, now);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return;
    }
    const waitSeconds = (1 - b.tokens) / this.opts.ratePerSecond;
    // Retry-After is whole seconds; rounding down would send the agent back too early.
    throw new RateLimitedError(`${who} is over its request rate (${this.opts.ratePerSecond}/s, burst ${this.opts.burst})`, Math.max(1, Math.ceil(waitSeconds)));
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string, now: number): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.forgetIdle(now);
      b = { tokens: this.opts.burst, at: now };
      this.buckets.set(key, b);
      return b;
    }
    b.tokens = Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.ratePerSecond);
    b.at = now;
    return b;
  }

  /**
   * Drops buckets that have refilled completely: such a bucket is the same as none. If every key
   * is still busy, the oldest entries go: their senders get a fresh budget, which is the lesser
   * harm than unbounded memory under a flood of distinct keys.
   */
  private forgetIdle(now: number): void {
    const fullAfterMs = (this.opts.burst / this.opts.ratePerSecond) * 1000;
    for (const [key, b] of this.buckets) if (now - b.at >= fullAfterMs) this.buckets.delete(key);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}
