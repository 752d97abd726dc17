// Clusters as API objects, through `whistle start`'s assembly against a real kube-apiserver (kwok
// nodes): a cluster created with a kubeconfig is watched into ClickHouse and proxied without a
// restart, its secrets never come back out (read endpoints, logs, the table), a restart keeps its
// access, its join token is shown once and rotates, YAML clusters[] seeds the table, a pool worker
// takes its zone from its Kubernetes node and is drained on detach, and a deleted cluster's
// watchers stop. Bad input is refused naming the field.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { parseConfig } from '../../app/config.ts';
import { startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { freePort } from '../harness/ports.ts';
import { eventually, JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

let kube: KubeCluster;
let t: TestWhistle;
let dir: string;
let kubeconfig: string;
let logText = '';
let workerPort = 0;
let agent: NodeAgent | undefined;

function logger() {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logText += chunk.toString('utf8');
      done();
    },
  });
  return pino({ level: 'debug' }, sink);
}

async function start(keepDir?: string): Promise<TestWhistle> {
  return startTestWhistle({ fleet: { workerPorts: [workerPort] } }, { logger: logger(), ...(keepDir ? { dir: keepDir } : {}) });
}

async function json<T = Record<string, unknown>>(res: Response): Promise<{ status: number; body: T }> {
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  kube = await startKubeCluster({ nodes: 2 });
  kubeconfig = readFileSync(kube.kubeconfigPath, 'utf8');
  workerPort = await freePort();
  t = await start();
  dir = t.dir;
}, 600_000);

afterAll(async () => {
  await agent?.stop();
  await t?.stop();
  await kube?.stop();
});

describe('clusters as objects', () => {
  let joinToken = '';

  it('lists the YAML cluster, seeded into the table', async () => {
    const { status, body } = await json<{ clusters: { name: string; source: string; kubeAccess: string }[] }>(await t.operator('GET', '/v1/clusters'));
    expect(status).toBe(200);
    expect(body.clusters).toEqual([expect.objectContaining({ name: 'c1', source: 'config', kubeAccess: 'none' })]);
    const rows = await t.whistle.store.query<{ name: string; join_token_hash: string }>("SELECT name, argMax(join_token_hash, version) AS join_token_hash FROM clusters GROUP BY name");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.join_token_hash).not.toContain(JOIN_TOKEN);
  });

  it('creates a cluster with a kubeconfig: the join token once, watchers and proxy at once, no restart', async () => {
    const { status, body } = await json<{ cluster: { name: string; kubeAccess: string }; joinToken: string }>(await t.operator('POST', '/v1/clusters', { name: 'k1', kubeconfig }));
    expect(status).toBe(201);
    expect(body.cluster).toMatchObject({ name: 'k1', kubeAccess: 'api' });
    expect(body.joinToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    joinToken = body.joinToken;

    const nodes = await eventually(async () => {
      const rows = await t.whistle.store.query<{ name: string }>("SELECT DISTINCT name FROM kube_objects WHERE cluster = 'k1' AND kind = 'Node' ORDER BY name");
      return rows.length === 2 ? rows : null;
    }, 'k1 nodes in kube_objects', 60_000, 250);
    expect(nodes.map((r) => r.name)).toEqual(['kwok-node-0', 'kwok-node-1']);
    const proxied = await json<{ items: unknown[] }>(await t.operator('GET', '/v1/clusters/k1/k8s/api/v1/nodes'));
    expect(proxied.status).toBe(200);
    expect(proxied.body.items).toHaveLength(2);
  });

  it('an agent registers with the new join token; the token rotates and the old one stops working', async () => {
    const reg = await t.post('/v1/register', { cluster: 'k1', node: 'a1', joinToken });
    expect(reg.status).toBe(202);
    const rotated = await json<{ joinToken: string }>(await t.operator('POST', '/v1/clusters/k1/join-token'));
    expect(rotated.status).toBe(200);
    expect(rotated.body.joinToken).not.toBe(joinToken);
    expect((await t.post('/v1/register', { cluster: 'k1', node: 'a2', joinToken })).status).toBe(401);
    expect((await t.post('/v1/register', { cluster: 'k1', node: 'a2', joinToken: rotated.body.joinToken })).status).toBe(202);
  });

  it('keeps the kubeconfig and the join token out of every read endpoint, the logs and the table', async () => {
    const reads = await Promise.all(['/v1/clusters', '/v1/clusters/k1', '/v1/nodes', '/v1/pool'].map(async (p) => (await t.operator('GET', p)).text()));
    const secret = kube.token;
    expect(secret.length).toBeGreaterThan(10);
    for (const text of reads) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(joinToken);
      expect(text).not.toContain('certificate-authority-data');
    }
    expect(logText).toContain('cluster created');
    expect(logText).not.toContain(secret);
    expect(logText).not.toContain(joinToken);
    const rows = await t.whistle.store.query<{ sealed: string }>("SELECT argMax(kubeconfig_sealed, version) AS sealed FROM clusters WHERE name = 'k1' GROUP BY name");
    expect(rows[0]!.sealed).toMatch(/^v1\./);
    expect(rows[0]!.sealed).not.toContain(secret);
  });

  it('refuses bad input naming the field', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ name: 'k1' }, 409, /^name: a cluster "k1" already exists/],
      [{ name: 'c1' }, 409, /^name: a cluster "c1" already exists/],
      [{ name: 'bad name!' }, 400, /^name: must be 1-63 letters/],
      [{ name: '-x' }, 400, /^name: must be 1-63 letters/],
      [{ name: 'pool' }, 400, /^name: "pool" is reserved/],
      [{ name: 'k2', kubeconfig: 'this: [is not a kubeconfig' }, 400, /^kubeconfig: /],
      [{ name: 'k2', kubeconfig, context: 'nope' }, 400, /^context: the kubeconfig has no context "nope"/],
      [{ name: 'k2', clientPort: 2500, peerPort: 2500 }, 400, /^peerPort: must differ/],
      [{ name: 'k2', controlPlane: 3 }, 409, /^controlPlane: the pool has 0 authorized node\(s\) in no cluster, 3 wanted/],
      [{ name: 'k2', extra: 1 }, 400, /extra/],
    ];
    for (const [body, status, error] of cases) {
      const r = await json<{ error: string }>(await t.operator('POST', '/v1/clusters', body));
      expect({ body, status: r.status, error: r.body.error }).toEqual({ body, status, error: expect.stringMatching(error) });
    }
    // The bad kubeconfig's text never comes back in the error.
    const bad = await json<{ error: string }>(await t.operator('POST', '/v1/clusters', { name: 'k2', kubeconfig: `apiVersion: v1\nusers: [{name: u, user: {token: sekrit-token-value}}]\n` }));
    expect(bad.status).toBe(400);
    expect(bad.body.error).not.toContain('sekrit-token-value');
    expect((await t.operator('GET', '/v1/clusters/k2')).status).toBe(404);

    const busy = await json<{ error: string }>(await t.operator('DELETE', '/v1/clusters/k1'));
    expect(busy).toEqual({ status: 409, body: expect.objectContaining({ error: expect.stringMatching(/^cluster: k1 still has 2 node\(s\) \(a1, a2\)/) }) });
    const declared = await json<{ error: string }>(await t.operator('DELETE', '/v1/clusters/c1'));
    expect(declared).toEqual({ status: 409, body: expect.objectContaining({ error: expect.stringMatching(/^cluster: c1 is declared in clusters\[\]/) }) });
    expect((await t.operator('DELETE', '/v1/clusters/nope')).status).toBe(404);
  });

  it('a restart keeps the cluster, its access (watched and proxied again) and its current token', async () => {
    const token = (await json<{ joinToken: string }>(await t.operator('POST', '/v1/clusters/k1/join-token'))).body.joinToken;
    await t.stop({ keepDir: true });
    t = await start(dir);
    const { body } = await json<{ clusters: { name: string; kubeAccess: string }[] }>(await t.operator('GET', '/v1/clusters'));
    expect(body.clusters.map((c) => [c.name, c.kubeAccess])).toEqual([
      ['c1', 'none'],
      ['k1', 'api'],
    ]);
    expect((await t.operator('GET', '/v1/clusters/k1/k8s/api/v1/nodes')).status).toBe(200);
    expect((await t.post('/v1/register', { cluster: 'k1', node: 'a3', joinToken: token })).status).toBe(202);
  });

  it('a pool worker in a watched cluster takes its zone from its Kubernetes node and is drained on detach', async () => {
    const fleetToken = (await json<{ joinToken: string }>(await t.operator('POST', '/v1/pool/join-token'))).body.joinToken;
    // A real agent, in no zone of its own, on an address of its own; its node name is a kwok node's.
    const cfg = parseConfig({
      agent: { server: t.url, cluster: 'pool', node: 'kwok-node-1', joinToken: fleetToken, intervalMs: 2_000, stateDir: join(dir, 'agent-kwok-node-1'), tasks: { enabled: true, address: '127.0.71.1', etcdMember: false } },
    }).agent;
    agent = createNodeAgent(cfg, { logger: pino({ level: 'silent' }) });
    await agent.start();
    await eventually(async () => (await json<{ nodes: { node: string }[] }>(await t.operator('GET', '/v1/pool'))).body.nodes.some((n) => n.node === 'kwok-node-1'), 'the agent in the pool');
    expect((await t.operator('POST', '/v1/nodes/pool/kwok-node-1/authorize')).status).toBe(200);
    await kube.api.json('PATCH', '/api/v1/nodes/kwok-node-1', { metadata: { labels: { 'topology.kubernetes.io/zone': 'zone-k' } } }, 'application/merge-patch+json');

    const attached = await json<{ preflight: { ok: boolean; checks: { node: string; target: string }[] } }>(await t.operator('POST', '/v1/clusters/k1/attach', { nodes: ['kwok-node-1'], role: 'worker' }));
    expect(attached.status, JSON.stringify(attached.body)).toBe(200);
    expect(attached.body.preflight.checks).toEqual([expect.objectContaining({ node: 'kwok-node-1', target: `127.0.71.1:${workerPort}` })]);
    const node = await eventually(async () => {
      const d = await json<{ nodes: { node: string; zone: string; zoneFrom: string; role: string }[] }>(await t.operator('GET', '/v1/clusters/k1'));
      return d.body.nodes.find((n) => n.node === 'kwok-node-1' && n.zone === 'zone-k');
    }, 'the zone label seen', 30_000, 250);
    expect(node).toMatchObject({ role: 'worker', zoneFrom: 'kubernetes' });

    const detached = await json<{ notes: string[] }>(await t.operator('POST', '/v1/clusters/k1/detach', { nodes: ['kwok-node-1'] }));
    expect(detached.status, JSON.stringify(detached.body)).toBe(200);
    expect(detached.body.notes).toEqual([expect.stringMatching(/^kwok-node-1: drained, 0 pod\(s\) evicted/)]);
    const k8sNode = await kube.api.get<{ spec: { unschedulable?: boolean } }>('/api/v1/nodes/kwok-node-1');
    expect(k8sNode.spec.unschedulable).toBe(true);
    const pooled = await json<{ nodes: { node: string; cluster: string }[] }>(await t.operator('GET', '/v1/pool'));
    expect(pooled.body.nodes.find((n) => n.node === 'kwok-node-1')).toMatchObject({ cluster: 'pool' });
  });

  it('a deleted cluster leaves the proxy and its watchers stop', async () => {
    for (const n of ['a1', 'a2', 'a3']) expect((await t.operator('POST', `/v1/nodes/k1/${n}/revoke`)).status).toBe(200);
    const metricsBefore = await (await fetch(`${t.url}/metrics`)).text();
    expect(metricsBefore).toMatch(/whistle_kube_cluster_up\{cluster="k1"\}/);
    const del = await json<{ deleted: { name: string } }>(await t.operator('DELETE', '/v1/clusters/k1'));
    expect(del).toEqual({ status: 200, body: { deleted: expect.objectContaining({ name: 'k1' }) } });
    await eventually(async () => (await t.operator('GET', '/v1/clusters/k1/k8s/api/v1/nodes')).status === 404, 'k1 gone from the proxy', 10_000);
    await eventually(async () => !/whistle_kube_cluster_up\{cluster="k1"\}/.test(await (await fetch(`${t.url}/metrics`)).text()), 'k1 watchers stopped', 10_000);
    expect((await t.operator('GET', '/v1/clusters/k1')).status).toBe(404);
    // The name is free again.
    expect((await t.operator('POST', '/v1/clusters', { name: 'k1' })).status).toBe(201);
  });
});
