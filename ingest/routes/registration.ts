// POST /v1/register: an agent presents its cluster's join token and gets a node token back. The node
// is pending until an operator authorizes it (see routes/nodes.ts). Over HTTPS an agent also sends a
// CSR and gets its client certificate from the fleet CA (the certificate routes are served beside).
import type { FastifyPluginAsync } from 'fastify';
import { Counter } from 'prom-client';
import type { IngestContext } from '../context.ts';
import type { RegistrationRequest } from '../node-registry.ts';
import { RateLimiter } from '../rate-limit.ts';
import { checkNodeCsr, csrRule, issueNodeCertificate, nodeCertificateRoutes } from './node-certificates.ts';

const nameRule = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' } as const;

export const registrationRoutes: FastifyPluginAsync<{ ctx: IngestContext }> = async (app, { ctx }) => {
  // Per source address, before the body is read: a join-token guesser or an agent re-registering
  // in a loop (each registration is a store write) is slowed down without touching other senders.
  const perMinute = ctx.server.rateLimit.perIpRegistrationsPerMinute;
  const perIp = new RateLimiter({ ratePerSecond: perMinute / 60, burst: perMinute });
  const rateLimited = new Counter({
    name: 'whistle_ingest_registrations_rate_limited_total',
    help: 'Registrations refused because their source address was over server.rateLimit.perIpRegistrationsPerMinute',
    registers: [ctx.registry],
  });
  app.post<{ Body: RegistrationRequest & { csr?: string } }>(
    '/v1/register',
    {
      bodyLimit: 16 * 1024,
      onRequest: async (req) => {
        try {
          perIp.take(req.ip, `source address ${req.ip}`);
        } catch (err) {
          rateLimited.inc();
          throw err;
        }
      },
      schema: {
        body: {
          type: 'object',
          required: ['cluster', 'node', 'joinToken'],
          additionalProperties: false,
          properties: {
            cluster: nameRule,
            node: nameRule,
            joinToken: { type: 'string', minLength: 1, maxLength: 512 },
            address: { type: 'string', maxLength: 253 },
            agentVersion: { type: 'string', maxLength: 64 },
            zone: { type: 'string', maxLength: 63, pattern: '^[A-Za-z0-9._-]*$' },
            csr: csrRule,
          },
        },
      },
    },
    async (req, reply) => {
      const { csr, ...registration } = req.body;
      if (csr && ctx.server.tls.enabled) await checkNodeCsr(csr);
      const result = await ctx.nodes.register({ ...registration, address: registration.address ?? req.ip });
      void ctx.audit.record({ actor: `agent:${req.body.node}`, action: 'node.register', cluster: req.body.cluster, subject: req.body.node });
      const certificate = await issueNodeCertificate(ctx.server, csr, registration);
      return reply.code(202).send(certificate ? { ...result, certificate } : result);
    },
  );
  await app.register(nodeCertificateRoutes, { ctx });
};
