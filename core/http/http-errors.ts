// The one place where errors become HTTP responses, each reply's code and status taken from the
// registry (core/errors.ts): domain errors keep theirs, fastify's own (bad JSON, body too large,
// schema validation) become the matching 4xx with a reason, and anything else is a 500 that is
// logged but not explained to the caller.
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, NotFoundError, WhistleError, type ErrorCode } from '../errors.ts';
import { fieldPath, pointerKeys } from './field-path.ts';

export interface ErrorBody {
  error: string;
  code: ErrorCode;
}

export interface ErrorReply {
  status: number;
  body: ErrorBody;
  headers: Readonly<Record<string, string>>;
}

function errorReply(code: ErrorCode, error: string, headers: Readonly<Record<string, string>> = {}): ErrorReply {
  return { status: ERRORS[code].status, body: { error, code }, headers };
}

// fastify's other 4xx refusals (bad URL, Content-Length mismatch, over-long parameter) keep their
// message under the registry code for their status; a status with none becomes WHISTLE_BAD_REQUEST.
const CODE_FOR_FASTIFY_STATUS: Readonly<Record<number, ErrorCode>> = {
  401: 'WHISTLE_UNAUTHORIZED',
  403: 'WHISTLE_FORBIDDEN',
  404: 'WHISTLE_NOT_FOUND',
  405: 'WHISTLE_METHOD_NOT_ALLOWED',
  409: 'WHISTLE_CONFLICT',
  413: 'WHISTLE_BODY_TOO_LARGE',
  415: 'WHISTLE_UNSUPPORTED_MEDIA_TYPE',
};

/**
 * A schema refusal as `<field>: <what is wrong>`. ajv reports a missing or an unknown field at the
 * object holding it ("body: must NOT have additional properties"); the message names the field.
 */
function validationMessage(fe: FastifyError): string {
  const first = fe.validation?.[0];
  const keys = pointerKeys(first?.instancePath ?? '');
  const params = (first?.params ?? {}) as { missingProperty?: string; additionalProperty?: string };
  let message = first?.message ?? fe.message;
  if (first?.keyword === 'required' && params.missingProperty !== undefined) {
    keys.push(params.missingProperty);
    message = 'is required';
  } else if (first?.keyword === 'additionalProperties' && params.additionalProperty !== undefined) {
    keys.push(params.additionalProperty);
    message = 'is not a known field (must NOT have additional properties)';
  }
  return `${fieldPath(fe.validationContext ?? 'body', keys)}: ${message}`;
}

export function classify(err: FastifyError | Error): ErrorReply {
  if (err instanceof WhistleError) return errorReply(err.code, err.message, err.replyHeaders);
  const fe = err as FastifyError;
  if (fe.validation) return errorReply('WHISTLE_INPUT_INVALID', validationMessage(fe));
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return errorReply('WHISTLE_BODY_TOO_LARGE', 'request body is too large');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return errorReply('WHISTLE_UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json');
  if (fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError)
    return errorReply('WHISTLE_MALFORMED_JSON', `malformed JSON: ${err.message}`);
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return errorReply(CODE_FOR_FASTIFY_STATUS[fe.statusCode] ?? 'WHISTLE_BAD_REQUEST', fe.message);
  return errorReply('WHISTLE_INTERNAL', 'internal error');
}

export type ErrorObserver = (req: FastifyRequest, err: Error, status: number) => void;

/**
 * The error handler every Whistle route answers with; `onError` sees each error and its status
 * first. Route plugins that are also mounted on their own (tests) set it in their own scope.
 */
export function errorHandler(onError?: ErrorObserver): (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void {
  return (err, req, reply) => {
    const { status, body, headers } = classify(err);
    if (status >= 500) req.log.error({ err }, 'request failed');
    onError?.(req, err, status);
    void reply.headers(headers).code(status).send(body);
  };
}

/**
 * fastify's `clientErrorHandler`: what Node's HTTP parser refuses before fastify sees a request
 * (headers over 16 KiB, a request that does not arrive in time, broken HTTP) answered in the same
 * `{error, code}` shape as everything else; fastify's own answer there carries no registry code.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Duplex): void {
  // A reset connection has no one to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const why =
    err.code === 'HPE_HEADER_OVERFLOW' ? 'request headers are larger than the server accepts (16 KiB)' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 'the request did not arrive in time' : 'malformed HTTP request';
  const { status, body } = errorReply('WHISTLE_BAD_REQUEST', why);
  const text = JSON.stringify(body);
  if (socket.writable) socket.write(`HTTP/1.1 ${status} Bad Request\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  socket.destroy(err);
}

export function installErrorHandler(app: FastifyInstance, onError?: ErrorObserver): void {
  app.setErrorHandler(errorHandler(onError));
  app.setNotFoundHandler((req, reply) => {
    const { status, body } = classify(new NotFoundError(`no route for ${req.method} ${req.url.split('?')[0]}`));
    void reply.code(status).send(body);
  });
}
