// POST /v1/register: an agent presents its cluster's join token and gets a node token back. The node
// is pending until an operator authorizes it (see routes/nodes.ts).
import type { FastifyPluginAsync } from 'fastify';
import type { IngestContext } from '../context.ts';
import type { RegistrationRequest } from '../node-registry.ts';

const nameRule = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' } as const;

export const registrationRoutes: FastifyPluginAsync<{ ctx: IngestContext }> = async (app, { ctx }) => {
  app.post<{ Body: RegistrationRequest }>(
    '/v1/register',
    {
      bodyLimit: 16 * 1024,
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
          },
        },
      },
    },
    async (req, reply) => {
      const result = await ctx.nodes.register({ ...req.body, address: req.body.address ?? req.ip });
      void ctx.audit.record({ actor: `agent:${req.body.node}`, action: 'node.register', cluster: req.body.cluster, subject: req.body.node });
      return reply.code(202).send(result);
    },
  );
};
