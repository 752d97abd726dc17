// `whistle start`'s wiring against a real control plane: a cluster configured with a kubeconfig is
// watched into ClickHouse, its state reaches the detectors, and the support team's read-only proxy
// answers through the running app with the operator's name in the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { eventually, JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

let cluster: KubeCluster;
let t: TestWhistle;

beforeAll(async () => {
  cluster = await startKubeCluster({ nodes: 3 });
  t = await startTestWhistle({ clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }] });
}, 600_000);

afterAll(async () => {
  await t?.stop();
  await cluster?.stop();
});

describe('Kubernetes through the assembled app', () => {
  it('watches the configured cluster into ClickHouse', async () => {
    const nodes = await eventually(async () => {
      const rows = await t.whistle.store.query<{ name: string }>(
        "SELECT DISTINCT name FROM kube_objects WHERE cluster = 'c1' AND kind = 'Node' ORDER BY name",
      );
      return rows.length === 3 ? rows : null;
    }, 'three nodes in kube_objects', 60_000, 500);
    expect(nodes.map((r) => r.name)).toEqual(['kwok-node-0', 'kwok-node-1', 'kwok-node-2']);
  });

  it('proxies an allowed read for an operator and records it; refuses secrets and writes', async () => {
    const res = await t.operator('GET', '/v1/clusters/c1/k8s/api/v1/nodes');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { metadata: { name: string } }[] };
    expect(body.items).toHaveLength(3);
    expect((await t.operator('GET', '/v1/clusters/c1/k8s/api/v1/namespaces/default/secrets')).status).toBe(403);
    expect((await t.operator('POST', '/v1/clusters/c1/k8s/api/v1/namespaces', {})).status).toBe(405);
    expect((await fetch(`${t.url}/v1/clusters/c1/k8s/api/v1/nodes`)).status).toBe(401);
    const audit = await eventually(async () => {
      const rows = await t.whistle.store.query<{ actor: string; subject: string }>(
        "SELECT actor, subject FROM audit_log WHERE action = 'kube.proxy.get' AND cluster = 'c1' ORDER BY ts",
      );
      return rows.length >= 2 ? rows : null;
    }, 'proxy reads in the audit log');
    expect(audit[0]).toMatchObject({ actor: 'test-operator' });
    expect(audit.map((r) => r.subject).join(' ')).toContain('nodes');
  });
});
