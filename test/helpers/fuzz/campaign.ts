// A fuzz campaign: `total` mutated requests from `concurrency` workers against a running Whistle,
// each answer judged (oracle.ts) and tallied by status and code. What the store must show
// afterwards is recorded here too: how many samples of each fuzzed telemetry request were
// answered 202 (the store check compares, see store-check.ts).
import { describeBody, mutate } from './mutate.ts';
import { FuzzClient, NoAnswer } from './http-client.ts';
import { judge } from './oracle.ts';
import { Rng } from './random.ts';
import { TextTooLong } from './json-text.ts';
import { bodyOf, pathOf, type FuzzRequest } from './request.ts';
import { seedRequest, type FuzzTargets } from './seeds.ts';

/** Smallest body limit of any route (registration, 16 KiB). */
const OVERSIZED_BYTES = 16 * 1024;

export interface CampaignOptions {
  port: number;
  targets: FuzzTargets;
  total: number;
  concurrency: number;
  seed: number;
  /** Loopback addresses the fuzzer sends from, round robin (many senders, as in a fleet). */
  sourceAddresses?: string[];
  /** Called every `progressEvery` requests. */
  onProgress?: (done: number) => void;
  progressEvery?: number;
}

export interface Finding {
  problem: string;
  request: string;
}

export interface CampaignResult {
  seed: number;
  requests: number;
  byStatus: Record<string, number>;
  /** 4xx answers by error code. */
  byCode: Record<string, number>;
  byKind: Record<string, number>;
  serverErrors: number;
  noAnswer: number;
  /** Oversized bodies whose connection closed before their answer could be read. */
  cutOff: number;
  /** Every broken contract (5xx, bad error body, no answer): one example of each kind, with its count. */
  findings: (Finding & { count: number })[];
  findingCount: number;
  /** fuzz_id -> samples answered 202 (0: refused or unanswered). */
  telemetry: Map<string, number>;
  fuzzSamplesAccepted: number;
  p99Ms: number;
  /** The slowest answers, with what was sent: an input that is expensive to refuse shows here. */
  slowest: { ms: number; status: number; request: string }[];
  durationMs: number;
}

function summary(req: FuzzRequest): string {
  const headers = Object.entries(req.headers)
    .map(([k, v]) => `${k}: ${v.length > 60 ? `${v.slice(0, 60)}...(${v.length})` : v}`)
    .join('; ');
  return `${req.kind} [${req.mutations.join(', ')}] ${req.method} ${pathOf(req).slice(0, 200)} {${headers}} ${describeBody(req)}`;
}

function remember(req: FuzzRequest, status: number, text: string, t: FuzzTargets): void {
  if (status !== 201) return;
  // Ids of what valid mutants created: later expire requests aim at real ones.
  const m = /"id":"((?:sil|mw)-[\w-]+)"/.exec(text);
  if (!m) return;
  const list = m[1]!.startsWith('sil') ? t.seen.silences : t.seen.maintenance;
  if (list.length < 50) list.push(m[1]!);
}

/** A mutated request whose body fits in memory (compounded mutations are drawn again). */
function buildRequest(rng: Rng, targets: FuzzTargets, id: string): FuzzRequest {
  for (;;) {
    try {
      const req = mutate(rng, seedRequest(rng, targets, id));
      req.bodyBytes ??= bodyOf(req);
      return req;
    } catch (err) {
      if (!(err instanceof TextTooLong)) throw err;
    }
  }
}

export async function runCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  const rng = new Rng(opts.seed);
  const client = new FuzzClient(opts.port, { maxSockets: opts.concurrency });
  const r: CampaignResult = {
    seed: opts.seed,
    requests: 0,
    byStatus: {},
    byCode: {},
    byKind: {},
    serverErrors: 0,
    noAnswer: 0,
    cutOff: 0,
    findings: [],
    findingCount: 0,
    telemetry: new Map(),
    fuzzSamplesAccepted: 0,
    p99Ms: 0,
    slowest: [],
    durationMs: 0,
  };
  const latencies: number[] = [];
  const kinds = new Map<string, Finding & { count: number }>();
  const found = (problem: string, req: FuzzRequest) => {
    r.findingCount++;
    // One kind per problem with its numbers and quoted parts blanked out.
    const kind = `${req.kind} ${problem.slice(0, 80).replace(/\d+/g, 'N').replace(/"[^"]*"/g, '""')}`;
    const k = kinds.get(kind);
    if (k) k.count++;
    else kinds.set(kind, { problem, request: summary(req), count: 1 });
  };
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < opts.total) {
      const n = next++;
      // The closing "x": a mutation that cuts the label short ("fz-9-12" of "fz-9-123x") must not
      // turn it into another request's id.
      const req = buildRequest(rng, opts.targets, `fz-${opts.seed}-${n}x`);
      const from = opts.sourceAddresses?.[n % opts.sourceAddresses.length];
      if (req.fuzzId) r.telemetry.set(req.fuzzId, 0);
      r.byKind[req.kind] = (r.byKind[req.kind] ?? 0) + 1;
      try {
        const a = await client.send(req, from);
        latencies.push(a.ms);
        if (r.slowest.length < 5 || a.ms > r.slowest[r.slowest.length - 1]!.ms) {
          r.slowest.push({ ms: Math.round(a.ms), status: a.status, request: summary(req).slice(0, 300) });
          r.slowest.sort((x, y) => y.ms - x.ms).splice(5);
        }
        r.byStatus[a.status] = (r.byStatus[a.status] ?? 0) + 1;
        if (a.status >= 500) r.serverErrors++;
        const v = judge(req.method, a);
        if (v.code && a.status >= 400) r.byCode[v.code] = (r.byCode[v.code] ?? 0) + 1;
        if (!v.ok) found(v.problem, req);
        if (req.fuzzId && a.status === 202) {
          const accepted = (JSON.parse(a.text) as { accepted?: number }).accepted ?? 0;
          r.telemetry.set(req.fuzzId, accepted);
          r.fuzzSamplesAccepted += accepted;
        }
        remember(req, a.status, a.text, opts.targets);
      } catch (err) {
        if (!(err instanceof NoAnswer)) throw err;
        if (/EPIPE|ECONNRESET/.test(err.message) && (req.bodyBytes?.length ?? 0) > OVERSIZED_BYTES) {
          // The server refused the body (413) and closed before reading it all; Node's client
          // loses that answer when its write fails first. Whether the server is still fine is
          // what the liveness check and every later request show.
          r.cutOff++;
        } else {
          r.noAnswer++;
          found(`no answer: ${err.message}`, req);
        }
      }
      r.requests++;
      if (opts.onProgress && r.requests % (opts.progressEvery ?? 10_000) === 0) opts.onProgress(r.requests);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    client.close();
  }
  r.durationMs = Date.now() - started;
  r.findings = [...kinds.values()].sort((a, b) => b.count - a.count);
  latencies.sort((a, b) => a - b);
  r.p99Ms = Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0);
  return r;
}
