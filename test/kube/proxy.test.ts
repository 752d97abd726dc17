// The read-only Kubernetes proxy in front of a real API server: GETs of allowed resources pass
// through with Whistle's credentials; writes, secrets, unknown clusters, bad tokens and odd query
// parameters are refused with clear 4xx JSON; every request is audited with the operator's name.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApi } from '../../ingest/kube/api-client.ts';
import { kubeProxyRoutes, parseApiPath, type KubeProxyAuditRecord } from '../../ingest/routes/kube-proxy.ts';
import { startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';

const TOKEN = 'support-token-0123456789abcdef';
let cluster: KubeCluster;
let app: FastifyInstance;
let api: KubeApi;
const audit: KubeProxyAuditRecord[] = [];

beforeAll(async () => {
  cluster = await startKubeCluster({ nodes: 2 });
  await cluster.createNamespace('shop');
  await cluster.createPods('shop', 3, ['kwok-node-0', 'kwok-node-1'], { prefix: 'web' });
  await cluster.api.json('POST', '/api/v1/namespaces/shop/secrets', { metadata: { name: 'db-password' }, stringData: { password: 'hunter2' } });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  api = await KubeApi.fromKubeConfig('prod-1', kc);
  app = Fastify();
  await app.register(kubeProxyRoutes, {
    clusters: { 'prod-1': api },
    operatorTokens: [{ name: 'alice', token: TOKEN }],
    audit: (r) => {
      audit.push(r);
    },
  });
  await app.ready();
}, 600_000);

afterAll(async () => {
  await app?.close();
  api?.close();
  await cluster?.stop();
});

const auth = { authorization: `Bearer ${TOKEN}` };

describe('read-only Kubernetes proxy', () => {
  it('forwards GETs of allowed resources and records who asked', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/api/v1/namespaces/shop/pods?labelSelector=app%3Dfake', headers: auth });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { kind: string; items: { metadata: { name: string } }[] };
    expect(body.kind).toBe('PodList');
    expect(body.items.map((p) => p.metadata.name).sort()).toEqual(['web-0', 'web-1', 'web-2']);
    const rec = audit.at(-1);
    expect(rec).toMatchObject({ actor: 'alice', cluster: 'prod-1', method: 'GET', path: '/api/v1/namespaces/shop/pods', query: 'labelSelector=app%3Dfake', status: 200, refused: null });

    const node = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/api/v1/nodes/kwok-node-0', headers: auth });
    expect(node.statusCode).toBe(200);
    expect(node.json().metadata.name).toBe('kwok-node-0');
    const deps = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/apis/apps/v1/deployments', headers: auth });
    expect(deps.statusCode).toBe(200);
    const version = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/version', headers: auth });
    expect(version.json().gitVersion).toBe(cluster.versions.kubernetes);
  });

  it('passes the API\'s own answer through (404 for a missing pod)', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/api/v1/namespaces/shop/pods/nope', headers: auth });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ kind: 'Status', reason: 'NotFound' });
  });

  it('refuses a missing or unknown token with 401', async () => {
    const none = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/api/v1/pods' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toEqual({ error: expect.stringMatching(/missing operator token/), code: 'WHISTLE_UNAUTHORIZED' });
    expect(audit.at(-1)).toMatchObject({ actor: 'anonymous', status: 401 });
    const wrong = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/api/v1/pods', headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toMatch(/unknown operator token/);
  });

  it('refuses writes with 405 and leaves the cluster untouched', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'] as const) {
      const res = await app.inject({
        method,
        url: '/v1/clusters/prod-1/k8s/api/v1/namespaces/shop/pods/web-0',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: method === 'DELETE' ? undefined : JSON.stringify({ metadata: { labels: { hacked: 'yes' } } }),
      });
      expect(res.statusCode, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD');
      expect(res.json()).toEqual({ error: expect.stringMatching(new RegExp(`read-only: ${method}`)), code: 'WHISTLE_METHOD_NOT_ALLOWED' });
    }
    const pod = await cluster.api.get<{ metadata: { labels: Record<string, string> } }>('/api/v1/namespaces/shop/pods/web-0');
    expect(pod.metadata.labels.hacked).toBeUndefined();
    expect(audit.at(-1)).toMatchObject({ actor: 'alice', method: 'DELETE', status: 405 });
  });

  it('never proxies secrets (403), whatever the path', async () => {
    for (const path of ['api/v1/secrets', 'api/v1/namespaces/shop/secrets', 'api/v1/namespaces/shop/secrets/db-password', 'api/v1/namespaces/shop/SECRETS']) {
      const res = await app.inject({ method: 'GET', url: `/v1/clusters/prod-1/k8s/${path}`, headers: auth });
      expect(res.statusCode, path).toBe(403);
      expect(res.json()).toEqual({ error: 'secrets are never proxied', code: 'WHISTLE_FORBIDDEN' });
      expect(res.body).not.toContain('hunter2');
    }
    // Encoded slashes and dot segments do not sneak past the check either.
    const sneaky = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/api/v1/namespaces/shop/pods/..%2F..%2Fsecrets', headers: auth });
    expect([400, 403]).toContain(sneaky.statusCode);
    expect(sneaky.body).not.toContain('hunter2');
  });

  it('refuses resources off the allow-list, and exec, with 403', async () => {
    const cm = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/api/v1/namespaces/kube-system/configmaps', headers: auth });
    expect(cm.statusCode).toBe(403);
    expect(cm.json().error).toMatch(/"\/configmaps" is not on the proxy's allow-list/);
    const exec = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/api/v1/namespaces/shop/pods/web-0/exec?command=sh', headers: auth });
    expect(exec.statusCode).toBe(403);
    const rbac = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/apis/rbac.authorization.k8s.io/v1/clusterroles', headers: auth });
    expect(rbac.statusCode).toBe(403);
  });

  it('refuses an unknown cluster with 404', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/clusters/nope/k8s/api/v1/pods', headers: auth });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'unknown cluster "nope"', code: 'WHISTLE_NOT_FOUND' });
    const proto = await app.inject({ method: 'GET', url: '/v1/clusters/__proto__/k8s/api/v1/pods', headers: auth });
    expect(proto.statusCode).toBe(404);
  });

  it('refuses query parameters it does not pass on (watch, dryRun) with 400 naming them', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/clusters/prod-1/k8s/api/v1/pods?watch=1', headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'query parameter "watch" is not supported by the proxy', code: 'WHISTLE_INPUT_INVALID' });
  });
});

describe('parseApiPath', () => {
  it('classifies core, group, namespaced and discovery paths', () => {
    expect(parseApiPath('api/v1/pods')).toEqual({ ok: true, resource: '/pods', discovery: false });
    expect(parseApiPath('api/v1/namespaces')).toEqual({ ok: true, resource: '/namespaces', discovery: false });
    expect(parseApiPath('api/v1/namespaces/shop')).toEqual({ ok: true, resource: '/namespaces', discovery: false });
    expect(parseApiPath('api/v1/namespaces/shop/pods/web-0/log')).toEqual({ ok: true, resource: '/pods/log', discovery: false });
    expect(parseApiPath('apis/apps/v1/namespaces/x/deployments/y/status')).toEqual({ ok: true, resource: 'apps/deployments/status', discovery: false });
    expect(parseApiPath('apis/apps/v1')).toEqual({ ok: true, resource: 'apis', discovery: true });
    expect(parseApiPath('apis/apps/v1/namespaces/x/deployments/y/status/extra')).toMatchObject({ ok: false, status: 403 });
    expect(parseApiPath('healthz')).toMatchObject({ ok: false, status: 403 });
    expect(parseApiPath('api/v1/namespaces/a/pods/%2e%2e')).toMatchObject({ ok: false, status: 400 });
  });
});
