// Operator endpoints require a token listed in server.operatorTokens; the token's name becomes the
// actor recorded in the audit log.
import type { FastifyRequest } from 'fastify';
import type { ServerConfig } from '../config/schema.ts';
import { UnauthorizedError } from '../errors.ts';
import { bearer, tokensEqual } from './tokens.ts';

export function operatorFor(req: FastifyRequest, cfg: Pick<ServerConfig, 'operatorTokens'>): string {
  const token = bearer(req.headers.authorization);
  if (!token) throw new UnauthorizedError('missing operator token (Authorization: Bearer <token>)');
  const match = cfg.operatorTokens.find((t) => tokensEqual(t.token, token));
  if (!match) throw new UnauthorizedError('unknown operator token');
  return match.name;
}

/** A preHandler that rejects requests without a valid operator token and stores the actor name. */
export function requireOperator(cfg: Pick<ServerConfig, 'operatorTokens'>) {
  return async (req: FastifyRequest): Promise<void> => {
    (req as FastifyRequest & { operator?: string }).operator = operatorFor(req, cfg);
  };
}

export function actorOf(req: FastifyRequest): string {
  return (req as FastifyRequest & { operator?: string }).operator ?? 'unknown';
}

/** What operator routes use: a preHandler that admits only operator tokens, and who called. */
export interface OperatorAuth {
  preHandler: (req: FastifyRequest) => Promise<void>;
  actorOf: (req: FastifyRequest) => string;
  /** The operator named by a request's token, or an UnauthorizedError. */
  operatorFor: (req: FastifyRequest) => string;
}

export function operatorAuth(cfg: ServerConfig): OperatorAuth {
  return { preHandler: requireOperator(cfg), actorOf, operatorFor: (req) => operatorFor(req, cfg) };
}
