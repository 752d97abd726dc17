// `whistle start`'s wiring against a real control plane: a cluster configured with a kubeconfig is
// watched into ClickHouse, its state reaches the detectors, and the support team's read-only proxy
// answers through the running app with the operator's name in the audit log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ChdbStore } from '../../store/chdb-store.ts';
import { migrate } from '../../store/migrate.ts';
import type { QueryParams, Store } from '../../store/store.ts';
import { startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { eventually, JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

let cluster: KubeCluster;
let t: TestWhistle;

/** The real store, whose audit_log inserts can be made to fail (a full disk, a dropped table). */
class AuditFailingStore implements Store {
  readonly kind = 'chdb' as const;
  readonly dialect = 'modern' as const;
  failAudit = false;
  constructor(private readonly inner: Store) {}
  async insert(table: string, rows: readonly Record<string, unknown>[]) {
    if (this.failAudit && table === 'audit_log') throw new Error('No space left on device (injected)');
    return this.inner.insert(table, rows);
  }
  insertJsonEachRow(table: string, body: string | Buffer) {
    return this.inner.insertJsonEachRow(table, body);
  }
  query<T>(sql: string, params?: QueryParams) {
    return this.inner.query<T>(sql, params);
  }
  command(sql: string, params?: QueryParams) {
    return this.inner.command(sql, params);
  }
  ping() {
    return this.inner.ping();
  }
  close() {
    return this.inner.close();
  }
}
const dir = mkdtempSync(join(tmpdir(), 'whistle-kube-wiring-'));
let store: AuditFailingStore;

beforeAll(async () => {
  cluster = await startKubeCluster({ nodes: 3 });
  const chdb = new ChdbStore(join(dir, 'chdb'));
  await migrate(chdb, { retentionDays: 30 });
  store = new AuditFailingStore(chdb);
  t = await startTestWhistle({ clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }] }, { store, dir });
}, 600_000);

afterAll(async () => {
  await t?.stop();
  await store?.close();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
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

  it('fails closed: a read that cannot be recorded in the audit log is not served', async () => {
    store.failAudit = true;
    try {
      const res = await t.operator('GET', '/v1/clusters/c1/k8s/api/v1/nodes');
      expect(res.status).toBe(503);
      const body = (await res.json()) as { error: string; code: string };
      expect(body.code).toBe('WHISTLE_UNAVAILABLE');
      expect(body.error).toMatch(/audit log.*No space left on device.*not served/);
      expect(body).not.toHaveProperty('items');
    } finally {
      store.failAudit = false;
    }
    expect((await t.operator('GET', '/v1/clusters/c1/k8s/api/v1/nodes')).status).toBe(200);
  });
});
