// HTTP routes of the bootstrap engine.
// - Agents (node token): GET /v1/agent/tasks (long poll), POST /v1/agent/tasks/:id/ack (received,
//   running now) and POST /v1/agent/tasks/:id/result.
// - Operators: /v1/etcd/:cluster/{info,init,join,remove,reset,snapshot,snapshots,restore,preflight}.
// Approvals and the actions record are remediation's API (remediators/policy/routes.ts).
import type { AuditLog } from '../core/audit.ts';
import { ForbiddenError, NotFoundError } from '../core/errors.ts';
import type { OperatorAuth } from '../core/http/operator-auth.ts';
import { bearer } from '../core/http/tokens.ts';
import type { RoutePlugin } from '../core/stage.ts';
import type { TaskResult } from '../core/types.ts';
import type { NodeRegistry } from '../ingest/node-registry.ts';
import type { EtcdEngine } from './etcd/engine.ts';
import { runPreflight } from './preflight/preflight.ts';
import type { TaskQueue } from './tasks/queue.ts';

const nodeName = { type: 'string', minLength: 1, maxLength: 63, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' } as const;

export function agentTaskRoutes(queue: TaskQueue, nodes: Pick<NodeRegistry, 'authenticate'>): RoutePlugin {
  return async (app) => {
    app.get<{ Querystring: { waitMs?: number } }>(
      '/v1/agent/tasks',
      { schema: { querystring: { type: 'object', additionalProperties: false, properties: { waitMs: { type: 'integer', minimum: 0, maximum: 60_000 } } } } },
      async (req, reply) => {
        const node = nodes.authenticate(bearer(req.headers.authorization));
        const ac = new AbortController();
        req.raw.once('close', () => ac.abort());
        const tasks = await queue.poll(node.cluster, node.node, req.query.waitMs ?? 0, ac.signal);
        if (tasks.length) {
          reply.raw.once('close', () => {
            if (!reply.raw.writableFinished) queue.undelivered(node.cluster, node.node, tasks);
          });
        }
        // `ack`: this plane wants each task acknowledged before it runs (an agent that does not know it just runs them).
        return { tasks, ack: true };
      },
    );

    app.post<{ Params: { id: string } }>('/v1/agent/tasks/:id/ack', async (req, reply) => {
      const node = nodes.authenticate(bearer(req.headers.authorization));
      const r = queue.acknowledge(node.cluster, node.node, req.params.id);
      if (r === 'forbidden') throw new ForbiddenError(`task ${req.params.id} is not for ${node.cluster}/${node.node}`);
      if (r === 'unknown') throw new NotFoundError(`task ${req.params.id} is not waiting to run (expired, or the plane restarted)`);
      return reply.code(202).send({ accepted: true });
    });

    app.post<{ Params: { id: string }; Body: TaskResult }>(
      '/v1/agent/tasks/:id/result',
      {
        bodyLimit: 4 * 1024 * 1024,
        schema: {
          body: {
            type: 'object',
            required: ['taskId', 'ok', 'output', 'finishedAt'],
            additionalProperties: false,
            properties: { taskId: { type: 'string', maxLength: 64 }, ok: { type: 'boolean' }, output: { type: 'object' }, error: { type: 'string', maxLength: 8192 }, finishedAt: { type: 'integer' } },
          },
        },
      },
      async (req, reply) => {
        const node = nodes.authenticate(bearer(req.headers.authorization));
        if (req.body.taskId !== req.params.id) throw new ForbiddenError(`body.taskId ${req.body.taskId} does not match the URL's ${req.params.id}`);
        const r = queue.complete(node.cluster, node.node, req.body);
        if (r === 'forbidden') throw new ForbiddenError(`task ${req.params.id} is not for ${node.cluster}/${node.node}`);
        if (r === 'unknown') throw new NotFoundError(`task ${req.params.id} is not waiting for a result (expired or already reported)`);
        return reply.code(202).send({ accepted: true });
      },
    );
  };
}

export interface EtcdRouteDeps {
  engine: EtcdEngine;
  queue: TaskQueue;
  auth: OperatorAuth;
  audit: AuditLog;
}

export function etcdOperatorRoutes({ engine, queue, auth, audit }: EtcdRouteDeps): RoutePlugin {
  return async (app) => {
    app.addHook('preHandler', auth.preHandler);
    const dryRun = { type: 'boolean' } as const;
    type P = { Params: { cluster: string } };

    app.get<P>('/v1/etcd/:cluster/info', async (req) => ({ info: await engine.info(req.params.cluster) }));
    app.get<P>('/v1/etcd/:cluster/snapshots', async (req) => {
      engine.cluster(req.params.cluster);
      return { snapshots: await engine.snapshots(req.params.cluster) };
    });

    const body = (props: Record<string, unknown>, required: string[] = []) => ({
      schema: { body: { type: 'object', additionalProperties: false, required, properties: { dryRun, ...props } } },
    });
    const record = (req: { params: { cluster: string } }, actor: string, action: string, detail: Record<string, unknown>) =>
      audit.record({ actor, action: `etcd.${action}`, cluster: req.params.cluster, subject: String(detail.node ?? ''), detail });

    app.post<P & { Body: { node?: string; dryRun?: boolean } }>('/v1/etcd/:cluster/init', body({ node: nodeName }), async (req) => {
      const actor = auth.actorOf(req);
      await record(req, actor, 'init', { ...req.body });
      return engine.init(req.params.cluster, req.body.node, { dryRun: req.body.dryRun, actor });
    });
    app.post<P & { Body: { node: string; via?: string; dryRun?: boolean } }>('/v1/etcd/:cluster/join', body({ node: nodeName, via: nodeName }, ['node']), async (req) => {
      const actor = auth.actorOf(req);
      await record(req, actor, 'join', { ...req.body });
      return engine.join(req.params.cluster, req.body.node, { dryRun: req.body.dryRun, via: req.body.via, actor });
    });
    for (const op of ['remove', 'reset'] as const) {
      app.post<P & { Body: { node: string; dryRun?: boolean } }>(`/v1/etcd/:cluster/${op}`, body({ node: nodeName }, ['node']), async (req) => {
        const actor = auth.actorOf(req);
        await record(req, actor, op, { ...req.body });
        return engine[op](req.params.cluster, req.body.node, { dryRun: req.body.dryRun, actor });
      });
    }
    app.post<P & { Body: { dryRun?: boolean } }>('/v1/etcd/:cluster/snapshot', body({}), async (req) => {
      const actor = auth.actorOf(req);
      if (req.body.dryRun) {
        const c = engine.cluster(req.params.cluster);
        return { op: 'snapshot', cluster: c.cluster, dryRun: true, changed: false, plan: { op: 'snapshot', cluster: c.cluster, summary: `save a snapshot, keep the newest ${c.snapshots.retain}`, steps: [] } };
      }
      await record(req, actor, 'snapshot', {});
      return engine.snapshot(req.params.cluster, { actor });
    });
    app.post<P & { Body: { snapshot?: string; nodes?: string[]; dryRun?: boolean } }>(
      '/v1/etcd/:cluster/restore',
      body({ snapshot: { type: 'string', maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*\\.db$' }, nodes: { type: 'array', items: nodeName, maxItems: 15 } }),
      async (req) => {
        const actor = auth.actorOf(req);
        if (req.body.dryRun) {
          const p = await engine.planRestore(req.params.cluster, { file: req.body.snapshot, nodes: req.body.nodes });
          return { op: 'restore', cluster: req.params.cluster, dryRun: true, changed: false, plan: p.plan };
        }
        await record(req, actor, 'restore', { ...req.body });
        return engine.restore(req.params.cluster, { file: req.body.snapshot, nodes: req.body.nodes, actor });
      },
    );
    app.post<P & { Body: { nodes?: string[] } }>(
      '/v1/etcd/:cluster/preflight',
      { schema: { body: { type: 'object', additionalProperties: false, properties: { nodes: { type: 'array', items: nodeName, maxItems: 15 } } } } },
      async (req) => {
        const c = engine.cluster(req.params.cluster);
        const nodes = (req.body.nodes?.length ? req.body.nodes : c.nodes.map((n) => n.node)).map((n) => engine.node(c, n));
        const info = await engine.reader.live(c);
        const running = new Set((info?.members ?? []).filter((m) => m.up).map((m) => m.node));
        return {
          report: await runPreflight(queue, c.cluster, {
            newNodes: nodes.filter((n) => !running.has(n.node)),
            members: c.nodes.filter((n) => running.has(n.node)),
            clientPort: c.clientPort,
            peerPort: c.peerPort,
          }),
        };
      },
    );
  };
}
