// The agent against the real management plane (fastify ingest, writer, embedded chDB): it registers
// with the join token, waits while pending, is authorized by the operator API, and then survives the
// management plane going away and coming back on the same address. Every sample ends up stored
// exactly once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { agentSchema } from '../../agent/config.ts';
import { createLogger } from '../../core/log.ts';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { point, type Collector, type Point } from '../../agent/collectors/types.ts';
import { JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
import { freePort, waitFor } from './fake-management-plane.ts';

class SeqCollector implements Collector {
  readonly name = 'seq';
  n = 0;
  constructor(private readonly to: number) {}
  async collect(): Promise<Point[]> {
    return this.n >= this.to ? [] : [point('test_seq', ++this.n, { quote: `it's "q" \\ ; DROP TABLE samples` })];
  }
}

let dir: string | undefined;
let plane: TestWhistle | undefined;
let agent: NodeAgent | undefined;

afterAll(async () => {
  await agent?.stop();
  await plane?.stop({ keepDir: true });
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function storedSeq(p: TestWhistle): Promise<number[]> {
  const res = await p.operator('GET', '/v1/samples?cluster=c1&node=agent-node&name=test_seq&limit=10000');
  if (res.status !== 200) return [];
  const { samples } = (await res.json()) as { samples: { value: number; labels: Record<string, string> }[] };
  for (const s of samples) expect(s.labels.quote).toBe(`it's "q" \\ ; DROP TABLE samples`);
  return samples.map((s) => s.value).sort((a, b) => a - b);
}

async function nodeStatus(p: TestWhistle): Promise<string | undefined> {
  const res = await p.operator('GET', '/v1/nodes?cluster=c1');
  if (res.status !== 200) return undefined;
  const body = (await res.json()) as { nodes: { node: string; status: string }[] };
  return body.nodes.find((n) => n.node === 'agent-node')?.status;
}

it('registers, waits for authorization, and loses nothing across a management-plane outage', async () => {
  dir = await mkdtemp(join(tmpdir(), 'whistle-agent-real-'));
  const port = await freePort();
  const overrides = { server: { port, operatorTokens: [{ name: 'test-operator', token: 'operator-token-for-tests-0123456789' }] } };
  plane = await startTestWhistle(overrides, { dir: join(dir, 'plane') });

  const seq = new SeqCollector(40);
  const cfg = agentSchema.parse({
    server: plane.url,
    cluster: 'c1',
    node: 'agent-node',
    joinToken: JOIN_TOKEN,
    intervalMs: 100,
    stateDir: join(dir, 'agent'),
    retryInitialMs: 50,
    retryMaxMs: 400,
  });
  agent = createNodeAgent(cfg, { logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), collectors: [seq], selfMetrics: false });
  await agent.start();

  // Pending: the node shows up, nothing is stored, the agent keeps everything.
  await waitFor(async () => (await nodeStatus(plane!)) === 'pending' && seq.n >= 5, 'node registered as pending');
  expect(await storedSeq(plane)).toEqual([]);
  const auth = await plane.operator('POST', '/v1/nodes/c1/agent-node/authorize');
  expect(auth.status).toBe(200);
  await waitFor(async () => (await storedSeq(plane!)).length >= 5, 'first samples stored');

  // Outage: the management plane stops; the agent spools.
  await plane.stop({ keepDir: true });
  const before = seq.n;
  await waitFor(() => seq.n >= before + 8, 'collections during the outage');
  expect(agent.queue!.samples).toBeGreaterThan(0);

  // Back on the same address with the same data: the backlog is replayed.
  plane = await startTestWhistle(overrides, { dir: join(dir, 'plane') });
  await waitFor(async () => {
    if ((await nodeStatus(plane!)) === 'pending') await plane!.operator('POST', '/v1/nodes/c1/agent-node/authorize');
    return seq.n >= 40 && (await storedSeq(plane!)).length >= 40;
  }, 'all 40 samples stored');
  await agent.stop();
  expect(await storedSeq(plane)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
});
