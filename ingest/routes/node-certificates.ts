// The certificates of the agents' TLS, over HTTPS only: GET /v1/ca serves the CA agents pin (no
// credentials: like kubeadm's cluster-info, it is how a new agent finds the CA, and it checks what it
// got against the caCertHash it was given), and POST /v1/agent/certificate gives a registered node a
// new client certificate for its key (renewal, or after its certificate was refused).
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { caCertHash } from '../../bootstrap/pki/ca-hash.ts';
import { checkCsr } from '../../bootstrap/pki/csr.ts';
import { fleetCa, signNodeCertificate } from '../../bootstrap/pki/fleet-ca.ts';
import { servedCaPem } from '../../bootstrap/pki/plane-tls.ts';
import type { ServerConfig } from '../../core/config/schema.ts';
import { InputError, NotFoundError } from '../../core/errors.ts';
import { bearer } from '../../core/http/tokens.ts';
import type { RegisteredNode } from '../../core/types.ts';
import type { IngestContext } from '../context.ts';

type AuthedRequest = FastifyRequest & { agentNode?: RegisteredNode };

export const csrRule = { type: 'string', minLength: 1, maxLength: 8192 } as const;

/** Checks a CSR before anything is registered, so a bad one costs no token. */
export async function checkNodeCsr(csr: string): Promise<void> {
  try {
    await checkCsr(csr);
  } catch (err) {
    throw new InputError(`csr: ${(err as Error).message}`);
  }
}

/** A client certificate for `node` from the fleet CA; undefined over plain HTTP, where nobody could present it. */
export async function issueNodeCertificate(server: ServerConfig, csr: string | undefined, node: { cluster: string; node: string }): Promise<string | undefined> {
  if (!server.tls.enabled || !csr) return undefined;
  return signNodeCertificate(await fleetCa(server.fleetCaDir), csr, node);
}

export const nodeCertificateRoutes: FastifyPluginAsync<{ ctx: IngestContext }> = async (app, { ctx }) => {
  app.get('/v1/ca', async () => {
    if (!ctx.server.tls.enabled) throw new NotFoundError('this management plane serves plain HTTP on loopback (server.tls.enabled is false): there is no CA to pin');
    const caCert = await servedCaPem(ctx.server);
    return { caCert, caCertHash: caCertHash(caCert) };
  });

  app.post<{ Body: { csr: string } }>(
    '/v1/agent/certificate',
    {
      bodyLimit: 16 * 1024,
      // The token is checked before the body is read, as on /v1/telemetry.
      onRequest: async (req: AuthedRequest) => {
        req.agentNode = ctx.nodes.authenticate(bearer(req.headers.authorization));
      },
      schema: { body: { type: 'object', required: ['csr'], additionalProperties: false, properties: { csr: csrRule } } },
    },
    async (req) => {
      const node = (req as AuthedRequest).agentNode!;
      if (!ctx.server.tls.enabled) throw new NotFoundError('this management plane serves plain HTTP: it issues no client certificates');
      await checkNodeCsr(req.body.csr);
      const certificate = await signNodeCertificate(await fleetCa(ctx.server.fleetCaDir), req.body.csr, { cluster: node.home, node: node.node });
      void ctx.audit.record({ actor: `agent:${node.node}`, action: 'node.certificate', cluster: node.cluster, subject: node.node });
      return { certificate };
    },
  );
};
