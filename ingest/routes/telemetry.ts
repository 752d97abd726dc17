// POST /v1/telemetry: one agent batch. Authentication happens before the body is read, so an
// unknown token costs nothing; the batch is validated whole, encoded, and queued for the writer.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { IngestContext } from '../context.ts';
import { ForbiddenError, OverloadedError, UnauthorizedError, UnavailableError } from '../../core/errors.ts';
import type { RegisteredNode } from '../../core/types.ts';
import { encodeBatch, SampleRangeError, telemetrySchema, type TelemetryBatch } from '../telemetry-batch.ts';
import { bearer } from '../../core/http/tokens.ts';
import { classify } from '../../core/http/http-errors.ts';
import { certifiedNode } from '../../core/http/client-cert.ts';
import type { RejectReason } from '../metrics.ts';
import { parseBatchTag } from '../resend-guard.ts';
import { RateLimiter } from '../rate-limit.ts';

type AuthedRequest = FastifyRequest & { agentNode?: RegisteredNode };

/** Why fastify itself refused a telemetry request (body, parse, schema); null for what the route counts. */
function rejectReason(err: Error): RejectReason | null {
  const { status, body } = classify(err);
  if (status === 413) return 'too_large';
  if (status === 429 || status === 401 || status === 403) return null; // counted where they happen
  if (body.code === 'WHISTLE_MALFORMED_JSON' || body.code === 'WHISTLE_UNSUPPORTED_MEDIA_TYPE') return 'invalid_json';
  if (/must NOT have more than \d+ items/.test(body.error)) return 'too_many_samples';
  if ((err as { validation?: unknown }).validation) return 'invalid_schema';
  return null;
}

export const telemetryRoutes: FastifyPluginAsync<{ ctx: IngestContext }> = async (app, { ctx }) => {
  const { server } = ctx;
  const m = ctx.metrics;
  const resends = ctx.resendGuard;
  const { perNodeRequestsPerSecond, burst } = server.rateLimit;
  const perNode = new RateLimiter({ ratePerSecond: perNodeRequestsPerSecond, burst });
  // Refusals by fastify (too large, bad JSON, schema) never reach the handler; count them here.
  app.addHook('onError', async (_req, _reply, err) => {
    const reason = rejectReason(err);
    if (reason) m.rejected.inc({ reason });
  });

  app.post<{ Body: TelemetryBatch }>(
    '/v1/telemetry',
    {
      bodyLimit: server.bodyLimitBytes,
      schema: { body: telemetrySchema(server.maxSamplesPerBatch) },
      onRequest: async (req: AuthedRequest) => {
        try {
          req.agentNode = ctx.nodes.authenticate(bearer(req.headers.authorization));
        } catch (err) {
          const reason = err instanceof UnauthorizedError ? 'unauthorized' : /pending/.test((err as Error).message) ? 'pending' : 'forbidden';
          m.rejected.inc({ reason });
          throw err;
        }
        // A certificate and a token must name the same node: one stolen credential is not enough.
        const certified = certifiedNode(req);
        if (certified && (certified.cluster !== req.agentNode.home || certified.node !== req.agentNode.node)) {
          m.rejected.inc({ reason: 'forbidden' });
          throw new ForbiddenError(`client certificate is for ${certified.cluster}/${certified.node}, the token for ${req.agentNode.cluster}/${req.agentNode.node}`);
        }
        // Per node, so a node stuck in a retry loop spends its own budget and no one else's.
        try {
          perNode.take(`${req.agentNode.home}/${req.agentNode.node}`, `node ${req.agentNode.cluster}/${req.agentNode.node}`);
        } catch (err) {
          m.rejected.inc({ reason: 'rate_limited' });
          throw err;
        }
        // A full queue refuses before the body is read and parsed: under overload, the CPU goes to
        // draining the queue rather than to parsing batches that would be refused anyway.
        try {
          ctx.sink.checkRoom();
        } catch (err) {
          m.rejected.inc({ reason: 'overloaded' });
          throw err;
        }
      },
    },
    async (req, reply) => {
      const node = (req as AuthedRequest).agentNode!;
      // A pool node attached to a cluster still says "pool" (its agent's config): its samples count for the cluster it is in.
      const batch = req.body.cluster === node.home && node.home !== node.cluster ? { ...req.body, cluster: node.cluster } : req.body;
      if (batch.cluster !== node.cluster || batch.node !== node.node) {
        m.rejected.inc({ reason: 'forbidden' }, batch.samples.length);
        throw new ForbiddenError(`token belongs to ${node.cluster}/${node.node}, not ${batch.cluster}/${batch.node}`);
      }
      const tag = parseBatchTag(req.headers['x-whistle-batch']);
      // The node's identity, which an attach does not change: the resend guard follows it across one.
      const nodeKey = `${node.home}/${node.node}`;
      if (resends.isResend(nodeKey, tag)) {
        req.log.debug({ node: nodeKey, tag }, 'resent batch already accepted; not queued again');
        return reply.code(202).send({ accepted: 0, duplicate: true });
      }
      let body: string;
      const batchId = ctx.samplesWriter.nextChunkId();
      try {
        body = encodeBatch(batch, {
          now: Date.now(),
          maxPastMs: server.maxPastMs,
          maxFutureMs: server.maxFutureMs,
          labelsAsText: ctx.store.dialect === 'legacy',
          batchId,
        });
      } catch (err) {
        if (err instanceof SampleRangeError) m.rejected.inc({ reason: err.reason }, batch.samples.length);
        throw err;
      }
      if (batch.samples.length > 0) {
        try {
          // Scaled out, the sink is the Kafka topic and the answer waits for the broker's ack.
          await ctx.sink.publish(batch, body, batchId, tag ? { node: nodeKey, epoch: tag.epoch, seq: tag.seq } : undefined);
        } catch (err) {
          if (err instanceof OverloadedError) m.rejected.inc({ reason: 'overloaded' }, batch.samples.length);
          if (err instanceof UnavailableError) m.rejected.inc({ reason: 'unavailable' }, batch.samples.length);
          throw err;
        }
      }
      resends.accepted(nodeKey, tag);
      m.accepted.inc(batch.samples.length);
      m.batchSize.observe(batch.samples.length);
      return reply.code(202).send({ accepted: batch.samples.length });
    },
  );
};
