// The node agent end to end against a real HTTP server playing the management plane: outages,
// pending authorization, throttling, poison batches, lost tokens, restarts and a full spool. A
// deterministic collector emits test_seq = 1, 2, 3, ... (one per tick) so "every sample exactly
// once, in order" is a plain equality.
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentSchema, type AgentConfig } from '../../agent/config.ts';
import { createLogger } from '../../core/log.ts';
import { createRegistry } from '../../core/metrics.ts';
import { createNodeAgent, type NodeAgent, type NodeAgentOptions } from '../../agent/node-agent.ts';
import { point, type Collector, type Point } from '../../agent/collectors/types.ts';
import { TOKEN_FILE } from '../../agent/token-store.ts';
import type { DeadLetterRecord } from '../../agent/dead-letter.ts';
import { FakeManagementPlane, freePort, JOIN_TOKEN, waitFor } from './fake-management-plane.ts';

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');

/** Emits test_seq = from, from+1, ... up to `to` (one per tick), then nothing. */
class SeqCollector implements Collector {
  readonly name = 'seq';
  n: number;
  constructor(
    from: number,
    private readonly to: number,
  ) {
    this.n = from - 1;
  }
  async collect(): Promise<Point[]> {
    if (this.n >= this.to) return [];
    return [point('test_seq', ++this.n, { run: 'test' })];
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

let dir: string;
let plane: FakeManagementPlane;
const agents: NodeAgent[] = [];

function agentConfig(server: string, over: Partial<AgentConfig> = {}): AgentConfig {
  return agentSchema.parse({
    server,
    cluster: 'c1',
    node: 'n1',
    joinToken: JOIN_TOKEN,
    intervalMs: 100,
    stateDir: dir,
    retryInitialMs: 50,
    retryMaxMs: 400,
    requestTimeoutMs: 5000,
    ...over,
  });
}

async function startAgent(server: string, collectors: Collector[], over: Partial<AgentConfig> = {}, opts: Partial<NodeAgentOptions> = {}): Promise<NodeAgent> {
  const agent = createNodeAgent(agentConfig(server, over), { logger, collectors, ...opts });
  agents.push(agent);
  await agent.start();
  return agent;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whistle-agent-'));
  plane = new FakeManagementPlane();
});

afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await plane.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('node agent delivery', () => {
  it('management plane down for a while, then up: every sample arrives exactly once, in order', async () => {
    const port = await freePort();
    const seq = new SeqCollector(1, 30);
    const agent = await startAgent(`http://127.0.0.1:${port}`, [seq]);
    await waitFor(() => seq.n >= 12, 'collections while the management plane is down');
    expect(agent.queue!.samples).toBeGreaterThan(0); // buffered on disk

    await plane.start(port);
    await waitFor(() => plane.valuesOf('test_seq').length >= 30, 'all 30 samples delivered');
    await agent.stop();
    expect(plane.valuesOf('test_seq')).toEqual(range(1, 30));
    expect(plane.registrations).toBe(1);
    // Everything (self metrics included) arrived in collection order.
    const ts = plane.accepted.map((s) => s.ts);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
  });

  it('pending authorization (403): buffered, then delivered once an operator authorizes the node', async () => {
    plane.autoAuthorize = false;
    await plane.start();
    const seq = new SeqCollector(1, 20);
    const agent = await startAgent(plane.url, [seq]);
    await waitFor(() => seq.n >= 10 && plane.telemetryRequests(403).length >= 2, 'collections while pending');
    expect(plane.accepted).toEqual([]);
    expect(agent.queue!.samples).toBeGreaterThan(0);

    plane.authorize('n1');
    await waitFor(() => plane.valuesOf('test_seq').length >= 20, 'delivery after authorization');
    await agent.stop();
    expect(plane.valuesOf('test_seq')).toEqual(range(1, 20));
    expect(plane.registrations).toBe(1); // a 403 is not a reason to register again
  });

  it('429 with Retry-After: waits at least that long before retrying, loses nothing', async () => {
    await plane.start();
    plane.throttle = { count: 1, retryAfter: '2' };
    const seq = new SeqCollector(1, 10);
    const agent = await startAgent(plane.url, [seq]);
    await waitFor(() => plane.valuesOf('test_seq').length >= 10, 'delivery after throttling');
    await agent.stop();
    expect(plane.valuesOf('test_seq')).toEqual(range(1, 10));
    const telemetry = plane.telemetryRequests();
    const throttled = telemetry.findIndex((r) => r.status === 429);
    expect(throttled).toBeGreaterThanOrEqual(0);
    const next = telemetry[throttled + 1]!;
    // A lower bound (correctness: the agent did not retry early), not a speed assertion.
    expect(next.at - telemetry[throttled]!.at).toBeGreaterThanOrEqual(1950);
  });

  it('a batch rejected with 400 goes to dead-letter; the batches merged with it and later ones still flow', async () => {
    plane.autoAuthorize = false;
    plane.reject = (samples) => samples.some((s) => s.name === 'test_seq' && s.value === 5);
    await plane.start();
    const seq = new SeqCollector(1, 20);
    const agent = await startAgent(plane.url, [seq]);
    // Let a backlog build up so the poison sample travels in a merged request first.
    await waitFor(() => seq.n >= 12 && plane.telemetryRequests(403).length >= 1, 'backlog while pending');
    plane.authorize('n1');
    await waitFor(() => plane.valuesOf('test_seq').length >= 19 && seq.n >= 20, 'delivery around the poison batch');
    await waitFor(() => agent.queue!.samples === 0, 'spool drained');
    await agent.stop();

    expect(plane.valuesOf('test_seq')).toEqual(range(1, 20).filter((v) => v !== 5));
    // The merged request was refused as a whole first, then its parts were tried one by one.
    const rejected = plane.telemetryRequests(400);
    expect(rejected.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...rejected.map((r) => r.samples))).toBeGreaterThan(rejected.at(-1)!.samples);

    const dead = await readdir(join(dir, 'dead-letter'));
    expect(dead).toHaveLength(1);
    const record = JSON.parse(await readFile(join(dir, 'dead-letter', dead[0]!), 'utf8')) as DeadLetterRecord;
    expect(record.status).toBe(400);
    expect(record.reason).toContain('poison');
    expect(record.samples.filter((s) => s.name === 'test_seq').map((s) => s.value)).toEqual([5]);
    expect(agent.stats.samplesDeadLettered).toBe(record.samples.length);
  });

  it('restart with a non-empty spool replays it first; the stored token is reused (no new registration)', async () => {
    const port = await freePort();
    const first = new SeqCollector(1, 10);
    const a1 = await startAgent(`http://127.0.0.1:${port}`, [first]);
    await waitFor(() => first.n >= 10, 'collections while down');
    await a1.stop();
    expect((await readdir(join(dir, 'spool'))).length).toBeGreaterThan(0);

    await plane.start(port);
    const second = new SeqCollector(11, 20);
    const a2 = await startAgent(plane.url, [second]);
    await waitFor(() => plane.valuesOf('test_seq').length >= 20, 'replay and new samples');
    await a2.stop();
    expect(plane.valuesOf('test_seq')).toEqual(range(1, 20));
    expect(plane.registrations).toBe(1);
    expect((await stat(join(dir, TOKEN_FILE))).mode & 0o777).toBe(0o600);

    const third = new SeqCollector(21, 25);
    const a3 = await startAgent(plane.url, [third]);
    await waitFor(() => plane.valuesOf('test_seq').length >= 25, 'third run');
    await a3.stop();
    expect(plane.valuesOf('test_seq')).toEqual(range(1, 25));
    expect(plane.registrations).toBe(1);
  });

  it('401 unknown token: registers again and delivers everything', async () => {
    await plane.start();
    const seq = new SeqCollector(1, 20);
    const agent = await startAgent(plane.url, [seq]);
    await waitFor(() => plane.valuesOf('test_seq').length >= 5, 'first deliveries');
    plane.forgetTokens();
    await waitFor(() => plane.valuesOf('test_seq').length >= 20, 'delivery after re-registration');
    await agent.stop();
    expect(plane.valuesOf('test_seq')).toEqual(range(1, 20));
    expect(plane.registrations).toBe(2);
    expect(plane.telemetryRequests(401).length).toBeGreaterThanOrEqual(1);
  });

  it('spool full: the oldest samples are dropped and counted, the newest are delivered in order', async () => {
    const port = await freePort();
    const seq = new SeqCollector(1, 40);
    // Each tick is one test_seq sample (~90 bytes): room for about ten of them.
    const agent = await startAgent(`http://127.0.0.1:${port}`, [seq], { maxSpoolBytes: 1000 }, { selfMetrics: false });
    await waitFor(() => seq.n >= 40, 'collections while down');
    const queue = agent.queue!;
    expect(queue.bytes).toBeLessThanOrEqual(1000);
    expect(queue.droppedSamples).toBeGreaterThan(0);

    await plane.start(port);
    await waitFor(() => queue.samples === 0 && plane.valuesOf('test_seq').length > 0, 'backlog delivered');
    await agent.stop();
    const got = plane.valuesOf('test_seq');
    expect(got).toEqual(range(40 - got.length + 1, 40)); // a contiguous run of the newest
    expect(got.length + queue.droppedSamples).toBe(40); // and every missing one was counted
  });

  it('a collection of more than 10,000 samples is sent in requests of at most 10,000', async () => {
    await plane.start();
    let done = false;
    const big: Collector = {
      name: 'big',
      async collect() {
        if (done) return [];
        done = true;
        return range(1, 25_000).map((v) => point('test_big', v));
      },
    };
    const agent = await startAgent(plane.url, [big], {}, { selfMetrics: false });
    await waitFor(() => plane.valuesOf('test_big').length >= 25_000, 'big collection delivered');
    await agent.stop();
    expect(plane.valuesOf('test_big')).toEqual(range(1, 25_000));
    const sizes = plane.telemetryRequests(202).map((r) => r.samples);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10_000);
    expect(plane.telemetryRequests(413)).toEqual([]);
  });

  it('a wrong join token: nothing is sent, nothing is lost', async () => {
    await plane.start();
    const seq = new SeqCollector(1, 10);
    const agent = await startAgent(plane.url, [seq], { joinToken: 'not-the-join-token-at-all' }, { selfMetrics: false });
    await waitFor(() => seq.n >= 10 && plane.registrations >= 2, 'registration attempts');
    await agent.stop();
    expect(plane.telemetryRequests()).toEqual([]);
    expect(agent.queue!.samples).toBe(10);
  });

  it('the real collectors and probes reach the management plane with cluster and node', async () => {
    await plane.start();
    const registry = createRegistry(false);
    const cfg = agentConfig(plane.url, {
      intervalMs: 200,
      probes: { http: [], tcp: [{ name: 'plane', host: '127.0.0.1', port: plane.port, timeoutMs: 2000 }], dns: [], certs: [] },
    });
    const agent = createNodeAgent(cfg, { logger, registry });
    agents.push(agent);
    await agent.start();
    const has = (name: string, labels: Record<string, string> = {}) =>
      plane.accepted.some((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    await waitFor(
      () => has('node_filesystem_size_bytes', { mount: '/' }) && has('node_load1') && has('node_memory_MemTotal_bytes') && has('node_cpu_utilisation') && has('node_uptime_seconds') && has('probe_tcp_up', { probe: 'plane' }),
      'machine metrics delivered',
    );
    await agent.stop();
    expect(plane.accepted.find((s) => s.name === 'probe_tcp_up')!.value).toBe(1);
    expect(has('whistle_agent_spool_bytes')).toBe(true);
    expect(has('whistle_agent_collector_errors_total', { collector: 'filesystems' })).toBe(true);
    // The same counters are on the process registry.
    expect(await registry.getSingleMetricAsString('whistle_agent_samples_sent_total')).toMatch(/whistle_agent_samples_sent_total [1-9]/);
  });

  it('lifecycle: stop before start and stop twice are safe; start twice starts once', async () => {
    const idle = createNodeAgent(agentConfig('http://127.0.0.1:9'), { logger, collectors: [] });
    await idle.stop();
    await idle.stop();
    await plane.start();
    const agent = await startAgent(plane.url, [new SeqCollector(1, 3)]);
    await agent.start();
    await waitFor(() => plane.valuesOf('test_seq').length >= 3, 'delivery');
    await Promise.all([agent.stop(), agent.stop()]);
    expect(plane.valuesOf('test_seq')).toEqual([1, 2, 3]);
  });
});
