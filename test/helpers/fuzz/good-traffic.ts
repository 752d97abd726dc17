// Well-behaved agents beside the fuzzer: each node posts a valid batch at a steady interval, and
// on 429 keeps it and retries after Retry-After, as the real agent does. Every sample answered 202
// must be in the store afterwards; any other answer is a problem to report.
import type { FuzzNode } from './seeds.ts';

export const GOOD_METRIC = 'good_metric';

export interface GoodTrafficResult {
  requests: number;
  samplesSent: number;
  samplesAccepted: number;
  throttled: number;
  problems: string[];
}

export class GoodTraffic {
  private running = false;
  private loops: Promise<void>[] = [];
  readonly result: GoodTrafficResult = { requests: 0, samplesSent: 0, samplesAccepted: 0, throttled: 0, problems: [] };

  constructor(
    private readonly opts: { url: string; cluster: string; nodes: FuzzNode[]; intervalMs: number; samplesPerBatch: number },
  ) {}

  start(): void {
    this.running = true;
    this.loops = this.opts.nodes.map((n) => this.loop(n));
  }

  async stop(): Promise<GoodTrafficResult> {
    this.running = false;
    await Promise.all(this.loops);
    return this.result;
  }

  private async loop(n: FuzzNode): Promise<void> {
    let seq = 0;
    while (this.running) {
      const next = Date.now() + this.opts.intervalMs;
      seq++;
      const now = Date.now();
      const body = JSON.stringify({
        cluster: this.opts.cluster,
        node: n.node,
        samples: Array.from({ length: this.opts.samplesPerBatch }, (_, i) => ({ name: GOOD_METRIC, value: seq + i / 1000, ts: now - i, labels: { seq: String(seq), i: String(i) } })),
      });
      this.result.samplesSent += this.opts.samplesPerBatch;
      await this.deliver(n, body, `good-${n.node}:${seq}`);
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
  }

  /** Sends until answered 202 (retrying after 429 and after a lost answer, like the agent). */
  private async deliver(n: FuzzNode, body: string, tag: string): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      this.result.requests++;
      let res: Response;
      try {
        res = await fetch(`${this.opts.url}/v1/telemetry`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${n.token}`, 'x-whistle-batch': tag },
          body,
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        this.result.problems.push(`${n.node}: no answer (${(err as Error).message})`);
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      const text = await res.text();
      if (res.status === 202) {
        this.result.samplesAccepted += (JSON.parse(text) as { accepted: number }).accepted;
        return;
      }
      if (res.status === 429) {
        this.result.throttled++;
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 1) * 1000));
        continue;
      }
      this.result.problems.push(`${n.node}: ${res.status} ${text.slice(0, 200)}`);
      return;
    }
    this.result.problems.push(`${n.node}: batch ${tag} not accepted after 50 attempts`);
  }
}
