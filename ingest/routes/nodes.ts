// Operator API for node agents: list, authorize, revoke.
import type { FastifyPluginAsync } from 'fastify';
import type { IngestContext } from '../context.ts';
import type { RegisteredNode } from '../../core/types.ts';

export function publicNode(n: RegisteredNode, lastSeen?: number) {
  const { tokenHash: _secret, ...rest } = n;
  return { ...rest, lastSeen: lastSeen ?? null };
}

export const nodeRoutes: FastifyPluginAsync<{ ctx: IngestContext }> = async (app, { ctx }) => {
  app.addHook('preHandler', ctx.operatorAuth.preHandler);

  app.get<{ Querystring: { cluster?: string } }>(
    '/v1/nodes',
    { schema: { querystring: { type: 'object', additionalProperties: false, properties: { cluster: { type: 'string', maxLength: 63 } } } } },
    async (req) => {
      const ts = ctx.store.dialect === 'modern' ? 'toUnixTimestamp64Milli(max(ts))' : 'max(ts)';
      const seen = await ctx.store.query<{ cluster: string; node: string; last: number | string }>(
        `SELECT cluster, node, ${ts} AS last FROM samples WHERE ts > ${ctx.store.dialect === 'modern' ? 'now64(3) - INTERVAL 1 DAY' : '(toUInt64(now()) - 86400) * 1000'} GROUP BY cluster, node`,
      );
      const last = new Map(seen.map((s) => [`${s.cluster}/${s.node}`, Number(s.last)]));
      return { nodes: ctx.nodes.list(req.query.cluster).map((n) => publicNode(n, last.get(`${n.cluster}/${n.node}`))) };
    },
  );

  for (const [verb, status] of [
    ['authorize', 'authorized'],
    ['revoke', 'revoked'],
  ] as const) {
    app.post<{ Params: { cluster: string; node: string } }>(`/v1/nodes/:cluster/:node/${verb}`, async (req) => {
      const actor = ctx.operatorAuth.actorOf(req);
      const node = await ctx.nodes.setStatus(req.params.cluster, req.params.node, status, actor);
      await ctx.audit.record({ actor, action: `node.${verb}`, cluster: req.params.cluster, subject: req.params.node });
      return { node: publicNode(node) };
    });
  }
};
