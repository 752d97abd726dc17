// GET /v1/samples: what is stored for a node, newest first (operator API, used by `whistle samples`).
import type { FastifyPluginAsync } from 'fastify';
import type { IngestContext } from '../context.ts';

interface SamplesQuery {
  cluster?: string;
  node: string;
  name?: string;
  since?: number;
  limit?: number;
}

export const sampleRoutes: FastifyPluginAsync<{ ctx: IngestContext }> = async (app, { ctx }) => {
  app.addHook('preHandler', ctx.operatorAuth.preHandler);
  app.get<{ Querystring: SamplesQuery }>(
    '/v1/samples',
    {
      schema: {
        querystring: {
          type: 'object',
          required: ['node'],
          additionalProperties: false,
          properties: {
            cluster: { type: 'string', maxLength: 63 },
            node: { type: 'string', minLength: 1, maxLength: 253 },
            name: { type: 'string', maxLength: 200 },
            // Epoch ms up to the last instant a Date can hold: beyond it the store cannot convert the value.
            since: { type: 'integer', minimum: 0, maximum: 8_640_000_000_000_000 },
            limit: { type: 'integer', minimum: 1, maximum: 10000, default: 100 },
          },
        },
      },
    },
    async (req) => {
      const q = req.query;
      const modern = ctx.store.dialect === 'modern';
      // Fixed fragments only; every value travels as a bound parameter.
      const where = ['node = {node:String}'];
      if (q.cluster) where.push('cluster = {cluster:String}');
      if (q.name) where.push('name = {name:String}');
      if (q.since !== undefined) where.push(modern ? 'ts >= fromUnixTimestamp64Milli({since:Int64})' : 'ts >= {since:UInt64}');
      const rows = await ctx.store.query<{ cluster: string; node: string; name: string; ts: number | string; value: number; labels: unknown }>(
        `SELECT cluster, node, name, ${modern ? 'toUnixTimestamp64Milli(ts)' : 'ts'} AS ts, value, labels
         FROM samples WHERE ${where.join(' AND ')} ORDER BY ts DESC LIMIT {limit:UInt32}`,
        { node: q.node, cluster: q.cluster ?? '', name: q.name ?? '', since: q.since ?? 0, limit: q.limit ?? 100 },
      );
      return {
        samples: rows.map((r) => ({ ...r, ts: Number(r.ts), labels: typeof r.labels === 'string' ? (JSON.parse(r.labels) as unknown) : r.labels })),
      };
    },
  );
};
