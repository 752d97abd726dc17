// Domain errors. Deep code throws these; the HTTP layer maps them to replies in one place
// (core/http/http-errors.ts) and the CLI prints their message.
//
// ERRORS is the one registry of every code Whistle answers with: its HTTP status and what it means.
// Error classes take their status from it, and ErrorCode is derived from it, so a code that is not
// registered does not compile. docs/errors.md documents each code for callers, and
// test/core/errors.unit.test.ts keeps the two (and every code literal in the tree) in step.

interface ErrorEntry {
  status: number;
  meaning: string;
}

export const ERRORS = {
  WHISTLE_INPUT_INVALID: { status: 400, meaning: 'a field of the request is missing, mistyped or out of range; the message names it' },
  WHISTLE_MALFORMED_JSON: { status: 400, meaning: 'the request body is not parseable JSON (or is empty with a JSON content-type)' },
  WHISTLE_BAD_REQUEST: { status: 400, meaning: 'the HTTP layer refused the request before any Whistle code ran (bad URL, parameter too long...)' },
  WHISTLE_CONFIG_INVALID: { status: 400, meaning: 'the configuration is invalid; every bad field is listed' },
  WHISTLE_UNAUTHORIZED: { status: 401, meaning: 'no token, or a token (node, operator or join) that Whistle does not know' },
  WHISTLE_CLIENT_CERT_REFUSED: { status: 401, meaning: 'the TLS client certificate presented is expired, not yet valid, or not issued by the fleet CA' },
  WHISTLE_FORBIDDEN: { status: 403, meaning: 'the token is known but may not do this (pending or revoked node, secrets, off the allow-list)' },
  WHISTLE_NOT_FOUND: { status: 404, meaning: 'no such route, node, cluster, incident, silence, window or plan' },
  WHISTLE_METHOD_NOT_ALLOWED: { status: 405, meaning: 'the route is read-only; the Allow header lists the methods it takes' },
  WHISTLE_CONFLICT: { status: 409, meaning: 'the request does not fit the current state (plan already decided, incident resolved, etcd cluster already initialized)' },
  WHISTLE_BODY_TOO_LARGE: { status: 413, meaning: 'the request body is over the server\'s limit (server.bodyLimitBytes)' },
  WHISTLE_UNSUPPORTED_MEDIA_TYPE: { status: 415, meaning: 'the request body is not application/json' },
  WHISTLE_OVERLOADED: { status: 429, meaning: 'the write queue is full; retry after Retry-After seconds' },
  WHISTLE_RATE_LIMITED: { status: 429, meaning: 'this node (or source address) sent more requests than server.rateLimit allows; retry after Retry-After seconds' },
  WHISTLE_INTERNAL: { status: 500, meaning: 'an unexpected failure inside Whistle; details are in the server log only' },
  WHISTLE_CLUSTER_UNREACHABLE: { status: 502, meaning: 'the Kubernetes API of the cluster could not be reached through the proxy' },
  WHISTLE_STORE_UNAVAILABLE: { status: 503, meaning: 'the store (chDB or ClickHouse) is closed or unreachable' },
  WHISTLE_UNAVAILABLE: { status: 503, meaning: 'a dependency (the Kafka topic) cannot take the request now; retry after Retry-After seconds' },
} as const satisfies Record<`WHISTLE_${string}`, ErrorEntry>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERRORS, code);
}

export class WhistleError extends Error {
  readonly httpStatus: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
    this.httpStatus = ERRORS[code].status;
  }

  /** Headers an HTTP reply for this error carries besides its body (Retry-After, Allow). */
  get replyHeaders(): Readonly<Record<string, string>> {
    return {};
  }
}

export class InputError extends WhistleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WHISTLE_INPUT_INVALID', message, options);
  }
}
export class NotFoundError extends WhistleError {
  constructor(message: string) {
    super('WHISTLE_NOT_FOUND', message);
  }
}
export class ConflictError extends WhistleError {
  constructor(message: string) {
    super('WHISTLE_CONFLICT', message);
  }
}
export class UnauthorizedError extends WhistleError {
  constructor(message: string) {
    super('WHISTLE_UNAUTHORIZED', message);
  }
}
export class ForbiddenError extends WhistleError {
  constructor(message: string) {
    super('WHISTLE_FORBIDDEN', message);
  }
}
/** The route only takes `allowed` methods (sent back in the Allow header). */
export class MethodNotAllowedError extends WhistleError {
  constructor(
    message: string,
    readonly allowed: readonly string[],
  ) {
    super('WHISTLE_METHOD_NOT_ALLOWED', message);
  }
  override get replyHeaders(): Readonly<Record<string, string>> {
    return { allow: this.allowed.join(', ') };
  }
}
/** The writer's queue is full: the caller should retry after `retryAfterSeconds`. */
export class OverloadedError extends WhistleError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('WHISTLE_OVERLOADED', message);
  }
  override get replyHeaders(): Readonly<Record<string, string>> {
    return { 'retry-after': String(this.retryAfterSeconds) };
  }
}
/** One node or source address is over its request rate (server.rateLimit): retry after `retryAfterSeconds`. */
export class RateLimitedError extends WhistleError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('WHISTLE_RATE_LIMITED', message);
  }
  override get replyHeaders(): Readonly<Record<string, string>> {
    return { 'retry-after': String(this.retryAfterSeconds) };
  }
}
/** An upstream that Whistle forwards to (a cluster's Kubernetes API) did not answer. */
export class ClusterUnreachableError extends WhistleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WHISTLE_CLUSTER_UNREACHABLE', message, options);
  }
}
export class StoreUnavailableError extends WhistleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WHISTLE_STORE_UNAVAILABLE', message, options);
  }
}
/** A dependency (e.g. the Kafka topic) cannot take the request now: retry after `retryAfterSeconds` (HTTP 503). */
export class UnavailableError extends WhistleError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super('WHISTLE_UNAVAILABLE', message, options);
  }
  override get replyHeaders(): Readonly<Record<string, string>> {
    return { 'retry-after': String(this.retryAfterSeconds) };
  }
}
export class ConfigError extends WhistleError {
  constructor(readonly problems: string[]) {
    super('WHISTLE_CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`);
  }
}
