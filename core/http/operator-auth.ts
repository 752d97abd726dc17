// Operator endpoints require a token listed in server.operatorTokens; the token's name becomes the
// actor recorded in the audit log.
import type { FastifyRequest } from 'fastify';
import type { ServerConfig } from '../core/config/schema.ts';
import { UnauthorizedError } from '../core/errors.ts';
import { bearer, tokensEqual } from './tokens.ts';

export function operatorFor(req: FastifyRequest, cfg: ServerConfig): string {
  const token = bearer(req.headers.authorization);
  if (!token) throw new UnauthorizedError('missing operator token (Authorization: Bearer <token>)');
  const match = cfg.operatorTokens.find((t) => tokensEqual(t.token, token));
  if (!match) throw new UnauthorizedError('unknown operator token');
  return match.name;
}

/** A preHandler that rejects requests without a valid operator token and stores the actor name. */
export function requireOperator(cfg: ServerConfig) {
  return async (req: FastifyRequest): Promise<void> => {
    (req as FastifyRequest & { operator?: string }).operator = operatorFor(req, cfg);
  };
}

export function actorOf(req: FastifyRequest): string {
  return (req as FastifyRequest & { operator?: string }).operator ?? 'unknown';
}
