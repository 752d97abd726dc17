// Shared retry with exponential backoff and full jitter, used by every output that talks to
// something that can go away (store, channels, Kubernetes API, agent uploads).

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly opts: BackoffOptions) {}

  /** Delay before the next attempt; grows until `maxMs`. */
  next(): number {
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * (this.opts.factor ?? 2) ** this.attempt);
    this.attempt++;
    // Full jitter keeps many agents that lost the same server from retrying in lockstep.
    return Math.round(base / 2 + (Math.random() * base) / 2);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Retries `fn` until it succeeds, `signal` aborts, or `maxAttempts` is reached (default: forever). */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: BackoffOptions & { maxAttempts?: number; signal?: AbortSignal; onError?: (err: unknown, attempt: number) => void },
): Promise<T> {
  const backoff = new Backoff(opts);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      opts.onError?.(err, attempt);
      if ((opts.maxAttempts !== undefined && attempt >= opts.maxAttempts) || opts.signal?.aborted) throw err;
      await sleep(backoff.next(), opts.signal);
    }
  }
}
