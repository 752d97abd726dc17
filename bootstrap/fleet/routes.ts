// The fleet's operator API (Bearer operator token):
//   POST   /v1/clusters                      {name, kubeconfig?, context?, clientPort?, peerPort?, controlPlane?, dryRun?}
//   GET    /v1/clusters                      the clusters (no secret: never a token, never a kubeconfig)
//   GET    /v1/clusters/:cluster             one, with its nodes and its etcd as reported now
//   DELETE /v1/clusters/:cluster             refused while nodes are in it
//   POST   /v1/clusters/:cluster/join-token  a new join token, shown this once
//   PUT    /v1/clusters/:cluster/kubeconfig  {kubeconfig, context?}: Kubernetes access, stored sealed
//   POST   /v1/clusters/:cluster/attach      {nodes, role, dryRun?}
//   POST   /v1/clusters/:cluster/detach      {nodes, dryRun?}
//   GET    /v1/pool                          nodes in no cluster
//   POST   /v1/pool/join-token               a new fleet join token (agents that join the pool), shown this once
// Every change is in the audit log (never with a secret in it).
import type { AuditLog } from '../../core/audit.ts';
import type { OperatorAuth } from '../../core/http/operator-auth.ts';
import { POOL } from '../../core/clusters/catalog.ts';
import type { RoutePlugin } from '../../core/stage.ts';
import type { AttachRole, Fleet } from './fleet.ts';
import type { ClusterCatalog } from '../../core/clusters/catalog.ts';

const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const nodeList = { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 253 } } as const;
const kubeconfig = { type: 'string', minLength: 1, maxLength: 256 * 1024 } as const;
const context = { type: 'string', minLength: 1, maxLength: 253 } as const;

export function fleetRoutes(d: { fleet: Fleet; catalog: ClusterCatalog; auth: OperatorAuth; audit: AuditLog }): RoutePlugin {
  return async (app) => {
    app.addHook('preHandler', d.auth.preHandler);
    type P = { Params: { cluster: string } };

    app.post<{
      Body: { name: string; kubeconfig?: string; context?: string; clientPort?: number; peerPort?: number; controlPlane?: number; dryRun?: boolean };
    }>(
      '/v1/clusters',
      {
        schema: {
          body: {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: { name: { type: 'string', maxLength: 253 }, kubeconfig, context, clientPort: port, peerPort: port, controlPlane: { type: 'integer', minimum: 1, maximum: 7 }, dryRun: { type: 'boolean' } },
          },
        },
      },
      async (req, reply) => {
        const actor = d.auth.actorOf(req);
        const { controlPlane, dryRun, ...input } = req.body;
        const r = await d.fleet.create(input, { controlPlane, dryRun, actor });
        if (!dryRun) await d.audit.record({ actor, action: 'cluster.create', cluster: input.name, subject: input.name, detail: { kubeAccess: Boolean(input.kubeconfig), controlPlane: controlPlane ?? 0 } });
        return reply.code(dryRun ? 200 : 201).send(r);
      },
    );

    app.get('/v1/clusters', async () => ({ clusters: d.catalog.list() }));

    app.get<P>('/v1/clusters/:cluster', async (req) => d.fleet.detail(req.params.cluster));

    app.delete<P>('/v1/clusters/:cluster', async (req) => {
      const actor = d.auth.actorOf(req);
      const cluster = await d.fleet.deleteCluster(req.params.cluster, actor);
      await d.audit.record({ actor, action: 'cluster.delete', cluster: cluster.name, subject: cluster.name });
      return { deleted: cluster };
    });

    app.post<P>('/v1/clusters/:cluster/join-token', async (req) => {
      const actor = d.auth.actorOf(req);
      const r = await d.catalog.rotateJoinToken(req.params.cluster, actor);
      await d.audit.record({ actor, action: 'cluster.join-token', cluster: r.cluster.name, subject: r.cluster.name });
      return r;
    });

    app.put<P & { Body: { kubeconfig: string; context?: string } }>(
      '/v1/clusters/:cluster/kubeconfig',
      { schema: { body: { type: 'object', required: ['kubeconfig'], additionalProperties: false, properties: { kubeconfig, context } } } },
      async (req) => {
        const actor = d.auth.actorOf(req);
        const cluster = await d.catalog.setKubeconfig(req.params.cluster, req.body.kubeconfig, req.body.context, actor);
        await d.audit.record({ actor, action: 'cluster.kubeconfig', cluster: cluster.name, subject: cluster.name });
        return { cluster };
      },
    );

    app.post<P & { Body: { nodes: string[]; role: AttachRole; dryRun?: boolean } }>(
      '/v1/clusters/:cluster/attach',
      {
        schema: {
          body: { type: 'object', required: ['nodes', 'role'], additionalProperties: false, properties: { nodes: nodeList, role: { type: 'string', enum: ['control-plane', 'worker'] }, dryRun: { type: 'boolean' } } },
        },
      },
      async (req) => {
        const actor = d.auth.actorOf(req);
        const r = await d.fleet.attach(req.params.cluster, req.body.nodes, req.body.role, { dryRun: req.body.dryRun, actor });
        if (!r.dryRun) await d.audit.record({ actor, action: 'cluster.attach', cluster: req.params.cluster, subject: req.body.nodes.join(','), detail: { role: req.body.role } });
        return r;
      },
    );

    app.post<P & { Body: { nodes: string[]; dryRun?: boolean } }>(
      '/v1/clusters/:cluster/detach',
      { schema: { body: { type: 'object', required: ['nodes'], additionalProperties: false, properties: { nodes: nodeList, dryRun: { type: 'boolean' } } } } },
      async (req) => {
        const actor = d.auth.actorOf(req);
        const r = await d.fleet.detach(req.params.cluster, req.body.nodes, { dryRun: req.body.dryRun, actor });
        if (!r.dryRun) await d.audit.record({ actor, action: 'cluster.detach', cluster: req.params.cluster, subject: req.body.nodes.join(',') });
        return r;
      },
    );

    app.get('/v1/pool', async () => ({ nodes: await d.fleet.nodeViews(POOL) }));

    app.post('/v1/pool/join-token', async (req) => {
      const actor = d.auth.actorOf(req);
      const joinToken = await d.catalog.rotateFleetToken(actor);
      await d.audit.record({ actor, action: 'pool.join-token', cluster: POOL, subject: POOL });
      return { joinToken };
    });
  };
}
