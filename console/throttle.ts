// Sign-in throttling: failed sign-ins are counted per name and per client address over a sliding
// window (console.signInThrottle); past the limit /console/login answers 429 without checking the
// password, so a guesser can neither try many passwords nor make Whistle spend a scrypt on each.
// Counted in memory: a restart forgets the counts (documented in console/README.md).
import type { SignInThrottleConfig } from './config.ts';

/** Keys kept at most: beyond it the oldest are dropped, so a spray of names cannot grow memory without bound. */
const MAX_KEYS = 10_000;

export interface ThrottleVerdict {
  refused: boolean;
  /** Seconds until the oldest counted failure leaves the window (for Retry-After). */
  retryAfterSeconds: number;
  /** What is over its limit: "name", "address" or both. */
  over: ('name' | 'address')[];
}

export class SignInThrottle {
  /** key -> failure times, oldest first. Names and addresses share the map under distinct prefixes. */
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly cfg: SignInThrottleConfig,
    private readonly now: () => number,
  ) {}

  check(name: string, address: string): ThrottleVerdict {
    const t = this.now();
    const over: ThrottleVerdict['over'] = [];
    let retryAt = 0;
    const test = (key: string, limit: number, what: 'name' | 'address') => {
      const times = this.recent(key, t);
      if (times.length >= limit) {
        over.push(what);
        retryAt = Math.max(retryAt, times[times.length - limit]! + this.cfg.windowMs);
      }
    };
    if (name) test(`n:${name}`, this.cfg.maxFailuresPerName, 'name');
    test(`a:${address}`, this.cfg.maxFailuresPerAddress, 'address');
    return { refused: over.length > 0, retryAfterSeconds: over.length ? Math.max(1, Math.ceil((retryAt - t) / 1000)) : 0, over };
  }

  failed(name: string, address: string): void {
    const t = this.now();
    if (name) this.add(`n:${name}`, t);
    this.add(`a:${address}`, t);
  }

  /** A good password clears the name's failures (not the address's: one valid account must not reset a spray). */
  succeeded(name: string): void {
    this.failures.delete(`n:${name}`);
  }

  private recent(key: string, t: number): number[] {
    const times = this.failures.get(key);
    if (!times) return [];
    while (times.length && times[0]! <= t - this.cfg.windowMs) times.shift();
    if (times.length === 0) this.failures.delete(key);
    return times;
  }

  private add(key: string, t: number): void {
    const times = this.recent(key, t);
    // Re-inserted last: the Map's order is then least recently failed first, which is what is dropped.
    this.failures.delete(key);
    times.push(t);
    // No key needs more entries than the larger limit to answer check().
    const keep = Math.max(this.cfg.maxFailuresPerName, this.cfg.maxFailuresPerAddress);
    if (times.length > keep) times.splice(0, times.length - keep);
    this.failures.set(key, times);
    while (this.failures.size > MAX_KEYS) this.failures.delete(this.failures.keys().next().value!);
  }
}
