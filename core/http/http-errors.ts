// The one place where errors become HTTP responses: domain errors keep their status and code,
// fastify's own (bad JSON, body too large, schema validation) become 4xx with a reason, and
// anything else is a 500 that is logged but not explained to the caller.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { OverloadedError, UnavailableError, WhistleError } from '../core/errors.ts';

export interface ErrorBody {
  error: string;
  code: string;
}

export function classify(err: FastifyError | Error): { status: number; body: ErrorBody; retryAfter?: number } {
  if (err instanceof OverloadedError) return { status: 429, body: { error: err.message, code: err.code }, retryAfter: err.retryAfterSeconds };
  if (err instanceof UnavailableError) return { status: 503, body: { error: err.message, code: err.code }, retryAfter: err.retryAfterSeconds };
  if (err instanceof WhistleError) return { status: err.httpStatus, body: { error: err.message, code: err.code } };
  const fe = err as FastifyError;
  if (fe.validation) {
    const first = fe.validation[0];
    const where = `${fe.validationContext ?? 'body'}${first?.instancePath ? first.instancePath.replace(/\//g, '.').replace(/\.(\d+)/g, '[$1]') : ''}`;
    return { status: 400, body: { error: `${where}: ${first?.message ?? fe.message}`, code: 'WHISTLE_INPUT_INVALID' } };
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: { error: 'request body is too large', code: 'WHISTLE_BODY_TOO_LARGE' } };
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return { status: 415, body: { error: 'content-type must be application/json', code: 'WHISTLE_UNSUPPORTED_MEDIA_TYPE' } };
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError)
    return { status: 400, body: { error: `malformed JSON: ${err.message}`, code: 'WHISTLE_MALFORMED_JSON' } };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return { status: fe.statusCode, body: { error: fe.message, code: fe.code ?? 'WHISTLE_BAD_REQUEST' } };
  return { status: 500, body: { error: 'internal error', code: 'WHISTLE_INTERNAL' } };
}

export function installErrorHandler(app: FastifyInstance, onError?: (req: FastifyRequest, err: Error, status: number) => void): void {
  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const { status, body, retryAfter } = classify(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    onError?.(req, err, status);
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route for ${req.method} ${req.url.split('?')[0]}`, code: 'WHISTLE_NOT_FOUND' });
  });
}
