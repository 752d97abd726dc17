// Liveness, readiness and Prometheus metrics.
import type { FastifyPluginAsync } from 'fastify';
import type { IngestContext } from '../context.ts';

export const healthRoutes: FastifyPluginAsync<{ ctx: IngestContext }> = async (app, { ctx }) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  // Ready means "accepting telemetry": true while the store is down too (batches spool to disk),
  // false only when the queue is full. The body tells the store's state either way.
  app.get('/readyz', async (_req, reply) => {
    const w = ctx.samplesWriter;
    const storeUp = await ctx.store.ping();
    const full = w.depth >= ctx.writer.maxQueueSamples;
    return reply.code(full ? 503 : 200).send({ ready: !full, store: storeUp ? 'up' : 'down', queue: w.depth, spooledBatches: w.spooled });
  });

  app.get('/metrics', async (_req, reply) => {
    return reply.header('content-type', ctx.registry.contentType).send(await ctx.registry.metrics());
  });
};
