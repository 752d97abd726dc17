// The full node agent (`whistle agent` with agent.tasks.enabled) carries out bootstrap tasks: the
// management plane's `etcd init` runs a real TLS etcd member through the agent's task poller, and
// the agent's etcd collector then reports that member's health over TLS as telemetry.
import { ingestServices } from '../../ingest/services.ts';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { stopEtcd } from '../../agent/tasks/etcd-process.ts';
import { parseConfig } from '../../app/config.ts';
import { freePort } from '../harness/ports.ts';
import { eventually, JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

let t: TestWhistle;
let agent: NodeAgent;
let clientPort = 0;

beforeAll(async () => {
  clientPort = await freePort();
  const peerPort = await freePort();
  t = await startTestWhistle(
    {
      etcd: {
        clusters: [{ cluster: 'c1', clientPort, peerPort, nodes: [{ node: 'etcd-node-1', address: '127.0.0.1' }], snapshots: { intervalS: 0 } }],
      },
    },
  );
  // etcd.pkiDir defaults to <dataDir>/etcd-pki: inside the test's directory.
  const cfg = parseConfig({
    agent: {
      server: t.url,
      cluster: 'c1',
      node: 'etcd-node-1',
      joinToken: JOIN_TOKEN,
      intervalMs: 500,
      stateDir: join(t.dir, 'agent-1'),
      tasks: { enabled: true, address: '127.0.0.1', etcdClientPort: clientPort },
    },
  }).agent;
  agent = createNodeAgent(cfg, { logger: pino({ level: 'silent' }) });
  await agent.start();
  await eventually(async () => t.whistle.service(ingestServices.nodes).get('c1', 'etcd-node-1'), 'agent registration');
  expect((await t.operator('POST', '/v1/nodes/c1/etcd-node-1/authorize')).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await stopEtcd({ cluster: 'c1', node: 'etcd-node-1', address: '127.0.0.1', dataRoot: join(t.dir, 'agent-1', 'node'), backupDir: join(t.dir, 'agent-1', 'backups') }, 2_000).catch(() => undefined);
  await t?.stop();
});

describe('node agent with bootstrap tasks', () => {
  it('runs `etcd init` through its task poller and reports the member over TLS', async () => {
    // The agent polls for tasks once it is authorized; until its first poll the plane refuses with 409.
    const init = await eventually(async () => {
      const r = await t.operator('POST', '/v1/etcd/c1/init', { node: 'etcd-node-1' });
      if (r.status === 409 && /not polling/.test(await r.clone().text())) return null;
      return r;
    }, 'the agent polling for tasks', 30_000, 500);
    expect(init.status, await init.clone().text()).toBe(200);
    const info = await eventually(async () => {
      const r = await t.operator('GET', '/v1/etcd/c1/info');
      const { info } = (await r.json()) as { info: { quorum: boolean; members: { node?: string; healthy: boolean }[] } };
      return info.quorum && info.members.length === 1 && info.members[0]!.healthy ? info : null;
    }, 'a healthy one-member cluster', 60_000, 500);
    expect(info.members[0]!.node).toBe('etcd-node-1');
    // The agent's etcd collector, through the normal telemetry path.
    const up = await eventually(async () => {
      const rows = await t.whistle.store.query<{ value: number; member: string }>(
        "SELECT value, labels['member'] AS member FROM samples WHERE node = 'etcd-node-1' AND name = 'etcd_member_up' ORDER BY ts DESC LIMIT 1",
      );
      // The collector samples every 500 ms: its latest sample may still be from before the member
      // came up; wait for one taken since.
      return rows[0]?.value === 1 ? rows[0] : null;
    }, 'etcd_member_up = 1 from the agent', 30_000, 500);
    expect(up).toEqual({ value: 1, member: 'etcd-node-1' });
    const leader = await t.whistle.store.query<{ v: number }>("SELECT max(value) AS v FROM samples WHERE node = 'etcd-node-1' AND name = 'etcd_member_is_leader'");
    expect(leader[0]!.v).toBe(1);
  });

  it('refuses an init on a node that is not part of the etcd cluster, naming it', async () => {
    const res = await t.operator('POST', '/v1/etcd/c1/init', { node: 'no-such-node' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await res.text()).toContain('no-such-node');
  });
});
