// The fleet on real parts: six full node agents (`whistle agent` with tasks, each on its own
// 127.0.70.x address standing for a node, in zones a/b/c) join the node pool with the fleet join
// token; Whistle as `whistle start` assembles it. A cluster created with three control-plane nodes
// gets them from three zones and a healthy 3-member etcd over TLS from the cluster's CA; workers
// attach; a control-plane node detaches (2 members) and a pool node takes its place (3 again); a
// detach that would lose quorum, and preflights that find a port taken or a peer unreachable, are
// refused naming node, port and reason, with nothing changed. Bad input is refused naming the field.
import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { stopEtcd } from '../../agent/tasks/etcd-process.ts';
import { parseConfig } from '../../app/config.ts';
import type { ChangeResult, ClusterDetail, FleetNodeView } from '../../bootstrap/fleet/fleet.ts';
import type { Placement } from '../../bootstrap/fleet/placement.ts';
import { bootstrapServices } from '../../bootstrap/services.ts';
import type { Action } from '../../core/types.ts';
import { remediationServices } from '../../remediators/services.ts';
import { freePort } from '../harness/ports.ts';
import { eventually, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const SUBNET = 70;
const NODES = [
  { node: 'n1', zone: 'zone-a' },
  { node: 'n2', zone: 'zone-b' },
  { node: 'n3', zone: 'zone-c' },
  { node: 'n4', zone: 'zone-a' },
  { node: 'w1', zone: 'zone-b' },
  { node: 'w2', zone: 'zone-c' },
];
// The cases that start, stop or join etcd members: a member's start and health wait took 60 s on
// a machine at load 34 (2 cores), past vitest's default budget.
const ETCD_CASE_MS = 240_000;
const address = (i: number) => `127.0.${SUBNET}.${i + 1}`;

let t: TestWhistle;
let clientPort = 0;
let peerPort = 0;
let workerPort = 0;
let fleetToken = '';
const agents: NodeAgent[] = [];

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await t.operator(method, path, body);
  return { status: res.status, body: (await res.json()) as T };
}

const env = (i: number) => ({ cluster: 'pool', node: NODES[i]!.node, address: address(i), dataRoot: join(t.dir, `agent-${NODES[i]!.node}`, 'node'), backupDir: join(t.dir, 'backups') });

function startAgent(i: number, node = NODES[i]!.node, zone: string | undefined = NODES[i]!.zone): NodeAgent {
  const cfg = parseConfig({
    agent: {
      server: t.url,
      cluster: 'pool',
      node,
      ...(zone ? { zone } : {}),
      joinToken: fleetToken,
      intervalMs: 2_000,
      stateDir: join(t.dir, `agent-${node}`),
      tasks: { enabled: true, address: address(i), etcdClientPort: clientPort },
    },
  }).agent;
  return createNodeAgent(cfg, { logger: pino({ level: 'silent' }) });
}

async function detail(): Promise<ClusterDetail> {
  const r = await api<ClusterDetail>('GET', '/v1/clusters/f1');
  expect(r.status).toBe(200);
  return r.body;
}

/** Voting, healthy members by node name, as the members report them now. */
async function healthyVoters(): Promise<string[]> {
  const d = await detail();
  return (d.etcd?.members ?? []).filter((m) => m.healthy && !m.isLearner).map((m) => m.node ?? m.name).sort();
}

function tlsClient(i: number): Etcd3 {
  const pki = join(env(i).dataRoot, 'pki');
  return new Etcd3({
    hosts: `https://${address(i)}:${clientPort}`,
    credentials: { rootCertificate: readFileSync(join(pki, 'ca.crt')), certChain: readFileSync(join(pki, 'client.crt')), privateKey: readFileSync(join(pki, 'node.key')) },
  });
}

beforeAll(async () => {
  clientPort = await freePort();
  peerPort = await freePort();
  workerPort = await freePort();
  t = await startTestWhistle({
    fleet: { workerPorts: [workerPort] },
    etcd: { taskTimeoutMs: 30_000, agentGoneMs: 5_000, verifyTimeoutMs: 45_000 },
    // Nothing here should heal on its own while the test stops a member on purpose.
    remediation: { etcdMemberReplace: { enabled: false } },
  });
  const tok = await api<{ joinToken: string }>('POST', '/v1/pool/join-token');
  expect(tok.status).toBe(200);
  fleetToken = tok.body.joinToken;
  for (let i = 0; i < NODES.length; i++) agents.push(startAgent(i));
  await Promise.all(agents.map((a) => a.start()));
  await eventually(async () => (await api<{ nodes: FleetNodeView[] }>('GET', '/v1/pool')).body.nodes.length === NODES.length, 'six agents in the pool', 60_000, 250);
  for (const n of NODES) expect((await api('POST', `/v1/nodes/pool/${n.node}/authorize`)).status).toBe(200);
}, 180_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
  for (let i = 0; i < NODES.length; i++) await stopEtcd(env(i), 2_000).catch(() => undefined);
  await t?.stop();
});

describe('the fleet on real etcd members and agents', () => {
  it('shows the pool with each node\'s zone, as the agents report it', async () => {
    const { body } = await api<{ nodes: FleetNodeView[] }>('GET', '/v1/pool');
    expect(body.nodes.map((n) => [n.node, n.zone, n.zoneFrom, n.status, n.cluster])).toEqual(NODES.map((n) => [n.node, n.zone, 'agent', 'authorized', 'pool']));
  });

  it('refuses bad attach input naming the field, before anything runs', async () => {
    expect((await api('POST', '/v1/clusters', { name: 'f0' })).status).toBe(201);
    // A pending and a revoked pool node, registered as an agent would.
    for (const node of ['p1', 'r1']) expect((await t.post('/v1/register', { cluster: 'pool', node, joinToken: fleetToken, address: '127.0.70.99' })).status).toBe(202);
    expect((await api('POST', '/v1/nodes/pool/r1/revoke')).status).toBe(200);
    const cases: [string, unknown, number, RegExp][] = [
      ['/v1/clusters/f0/attach', { nodes: ['nope'], role: 'worker' }, 404, /^nodes\[0\]: no node "nope" in the pool/],
      ['/v1/clusters/f0/attach', { nodes: ['n1', 'p1'], role: 'worker' }, 409, /^nodes\[1\]: p1 is pending authorization/],
      ['/v1/clusters/f0/attach', { nodes: ['r1'], role: 'worker' }, 409, /^nodes\[0\]: r1 is revoked/],
      ['/v1/clusters/f0/attach', { nodes: ['n1', 'n1'], role: 'worker' }, 400, /^nodes\[1\]: n1 is listed twice/],
      ['/v1/clusters/f0/attach', { nodes: ['n1'], role: 'boss' }, 400, /role/],
      ['/v1/clusters/f0/attach', { nodes: [], role: 'worker' }, 400, /nodes/],
      ['/v1/clusters/nope/attach', { nodes: ['n1'], role: 'worker' }, 404, /^cluster: no cluster "nope"/],
      ['/v1/clusters/f0/detach', { nodes: ['n1'] }, 409, /^nodes\[0\]: n1 is not a node of f0/],
      ['/v1/clusters/f0/detach', { nodes: ['ghost'] }, 404, /^nodes\[0\]: no node "ghost"/],
    ];
    for (const [path, body, status, error] of cases) {
      const r = await api<{ error: string }>('POST', path, body);
      expect({ path, body, status: r.status, error: r.body.error }).toEqual({ path, body, status, error: expect.stringMatching(error) });
    }
    const pool = (await api<{ nodes: FleetNodeView[] }>('GET', '/v1/pool')).body.nodes;
    expect(pool.filter((n) => n.cluster !== 'pool')).toEqual([]);
  });

  it('places a 3-node control plane in three zones and forms a healthy etcd over TLS', async () => {
    const dry = await api<{ cluster: null; placement: Placement }>('POST', '/v1/clusters', { name: 'f1', controlPlane: 3, clientPort, peerPort, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.placement).toEqual({ nodes: ['n1', 'n2', 'n3'], zones: ['zone-a', 'zone-b', 'zone-c'], spread: true, note: null });
    expect((await api('GET', '/v1/clusters/f1')).status).toBe(404);

    const made = await api<{ joinToken: string; placement: Placement; attach: ChangeResult }>('POST', '/v1/clusters', { name: 'f1', controlPlane: 3, clientPort, peerPort });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).not.toHaveProperty('attachError');
    expect(made.body.attach.preflight?.ok).toBe(true);
    expect(made.body.attach.steps?.map((s) => s.op)).toEqual(['init', 'join', 'join']);
    const d = await detail();
    expect(d.controlPlane.sort()).toEqual(['n1', 'n2', 'n3']);
    expect(d.etcd?.quorum).toBe(true);
    expect(d.etcd?.members.map((m) => m.peerURL).sort()).toEqual([0, 1, 2].map((i) => `https://${address(i)}:${peerPort}`));
    expect(await healthyVoters()).toEqual(['n1', 'n2', 'n3']);

    // A client with a certificate from the cluster's CA reads and writes through every member.
    const client = tlsClient(0);
    try {
      await client.put('fleet/test').value('one');
      for (let i = 0; i < 3; i++) {
        const c = tlsClient(i);
        expect(await c.get('fleet/test').string()).toBe('one');
        c.close();
      }
    } finally {
      client.close();
    }
    // The members' desired count is recorded for the etcd-quorum detector.
    const desired = await t.whistle.store.query<{ members: number }>("SELECT argMax(members, ts) AS members FROM etcd_clusters WHERE cluster = 'f1'");
    expect(Number(desired[0]!.members)).toBe(3);
  }, ETCD_CASE_MS);

  it('refuses a node already in another cluster, and deleting a cluster that has nodes', async () => {
    const r = await api<{ error: string }>('POST', '/v1/clusters/f0/attach', { nodes: ['n1'], role: 'worker' });
    expect(r).toEqual({ status: 409, body: expect.objectContaining({ error: expect.stringMatching(/^nodes\[0\]: n1 is attached to cluster f1: detach it first/) }) });
    const del = await api<{ error: string }>('DELETE', '/v1/clusters/f1');
    expect(del).toEqual({ status: 409, body: expect.objectContaining({ error: expect.stringMatching(/^cluster: f1 still has 3 node\(s\)/) }) });
  });

  it('attaches two workers after a preflight from the control plane to their kubelet port', async () => {
    const dry = await api<ChangeResult>('POST', '/v1/clusters/f1/attach', { nodes: ['w1', 'w2'], role: 'worker', dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, changed: false });
    expect((await detail()).workers).toEqual([]);
    const r = await api<ChangeResult>('POST', '/v1/clusters/f1/attach', { nodes: ['w1', 'w2'], role: 'worker' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const reach = r.body.preflight!.checks.filter((c) => c.check === 'reach');
    expect(reach).toHaveLength(6); // n1, n2, n3 each reach w1 and w2
    expect(reach.every((c) => c.target.endsWith(`:${workerPort}`) && c.ok)).toBe(true);
    expect((await detail()).workers.sort()).toEqual(['w1', 'w2']);
    // Their nodes list and count under f1 now.
    const { body } = await api<{ nodes: { node: string; cluster: string; home: string; role: string }[] }>('GET', '/v1/nodes?cluster=f1');
    expect(body.nodes.map((n) => [n.node, n.home, n.role])).toEqual([
      ['n1', 'pool', 'control-plane'],
      ['n2', 'pool', 'control-plane'],
      ['n3', 'pool', 'control-plane'],
      ['w1', 'pool', 'worker'],
      ['w2', 'pool', 'worker'],
    ]);
  }, ETCD_CASE_MS);

  it('detaches a control-plane node (2 members), then a pool node takes its place (3 again)', async () => {
    const r = await api<ChangeResult>('POST', '/v1/clusters/f1/detach', { nodes: ['n3'] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(await healthyVoters()).toEqual(['n1', 'n2']);
    expect((await detail()).etcd?.members).toHaveLength(2);
    const pooled = (await api<{ nodes: FleetNodeView[] }>('GET', '/v1/pool')).body.nodes.find((n) => n.node === 'n3');
    expect(pooled).toMatchObject({ cluster: 'pool', role: '' });

    const a = await api<ChangeResult>('POST', '/v1/clusters/f1/attach', { nodes: ['n4'], role: 'control-plane' });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body.steps?.map((s) => s.op)).toEqual(['join']);
    expect(await healthyVoters()).toEqual(['n1', 'n2', 'n4']);

    // Each change is an action recorded before and after.
    const actions = await t.whistle.service(remediationServices.recorder).list({ cluster: 'f1' });
    const states = (kind: string) => actions.filter((x: Action) => x.kind === kind && !x.dryRun).map((x) => x.state);
    expect(states('fleet.detach').sort()).toEqual(['started', 'succeeded']);
    expect(states('fleet.attach').sort()).toEqual(['started', 'started', 'started', 'succeeded', 'succeeded', 'succeeded']);
  }, ETCD_CASE_MS);

  it('refuses a detach that would lose quorum, and nothing changes', async () => {
    // n4's member goes down (its etcd stops; its agent stays).
    await t.whistle.service(bootstrapServices.taskQueue).runOk('f1', 'n4', 'etcd.stop', {});
    await eventually(async () => (await healthyVoters()).join() === 'n1,n2', 'n4 unhealthy', 30_000, 250);
    const r = await api<{ error: string }>('POST', '/v1/clusters/f1/detach', { nodes: ['n1'] });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatch(/^nodes\[0\]: removing n1's member would leave 2 member\(s\) of which 1 healthy, and quorum needs 2 \(unhealthy: n4\): refused, nothing was changed/);
    const d = await detail();
    expect(d.controlPlane.sort()).toEqual(['n1', 'n2', 'n4']);
    expect(d.etcd?.members).toHaveLength(3);
    const detaches = (await t.whistle.service(remediationServices.recorder).list({ cluster: 'f1' })).filter((x) => x.kind === 'fleet.detach' && x.subject === 'n1');
    expect(detaches).toEqual([]);
  }, ETCD_CASE_MS);

  it('stops an attach whose preflight finds a peer unreachable, naming node, port and reason', async () => {
    // n4's etcd is still down: a new member would not reach it on the peer port.
    const r = await api<{ error: string }>('POST', '/v1/clusters/f1/attach', { nodes: ['n3'], role: 'control-plane' });
    expect(r.status).toBe(409);
    expect(r.body.error).toContain(`n3: reach n4 ${address(3)}:${peerPort}: unreachable`);
    expect(r.body.error).toMatch(/nothing was changed$/);
    expect((await api<{ nodes: FleetNodeView[] }>('GET', '/v1/pool')).body.nodes.find((n) => n.node === 'n3')).toMatchObject({ cluster: 'pool' });
    expect((await detail()).etcd?.members).toHaveLength(3);
  }, ETCD_CASE_MS);

  it('stops an attach whose preflight finds a port taken, naming node, port and reason', async () => {
    // Bring n4 back first, so the port is the only thing wrong.
    const queue = t.whistle.service(bootstrapServices.taskQueue);
    const members = (await detail()).etcd!.members.map((m) => `${m.node}=${m.peerURL}`).join(',');
    await queue.runOk('f1', 'n4', 'etcd.start', { clientPort, peerPort, initialCluster: members, state: 'existing', token: 'whistle-f1' });
    await eventually(async () => (await healthyVoters()).join() === 'n1,n2,n4', 'n4 healthy again', 30_000, 250);
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(clientPort, address(2), resolve));
    try {
      const r = await api<{ error: string }>('POST', '/v1/clusters/f1/attach', { nodes: ['n3'], role: 'control-plane' });
      expect(r.status).toBe(409);
      expect(r.body.error).toContain(`n3: port-free ${address(2)}:${clientPort}: ${address(2)}:${clientPort} is already in use`);
      expect(r.body.error).not.toContain('unreachable');
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
    expect((await api<{ nodes: FleetNodeView[] }>('GET', '/v1/pool')).body.nodes.find((n) => n.node === 'n3')).toMatchObject({ cluster: 'pool' });
    expect(await healthyVoters()).toEqual(['n1', 'n2', 'n4']);
  }, ETCD_CASE_MS);
});
