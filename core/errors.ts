// Domain errors. Deep code throws these; the HTTP layer maps them to status codes in one place
// (ingest/http-errors.ts) and the CLI prints their message. Each carries a stable code.

export type ErrorCode =
  | 'WHISTLE_INPUT_INVALID'
  | 'WHISTLE_NOT_FOUND'
  | 'WHISTLE_CONFLICT'
  | 'WHISTLE_UNAUTHORIZED'
  | 'WHISTLE_FORBIDDEN'
  | 'WHISTLE_OVERLOADED'
  | 'WHISTLE_STORE_UNAVAILABLE'
  | 'WHISTLE_UNAVAILABLE'
  | 'WHISTLE_CONFIG_INVALID';

export class WhistleError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly httpStatus: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InputError extends WhistleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WHISTLE_INPUT_INVALID', message, 400, options);
  }
}
export class NotFoundError extends WhistleError {
  constructor(message: string) {
    super('WHISTLE_NOT_FOUND', message, 404);
  }
}
export class ConflictError extends WhistleError {
  constructor(message: string) {
    super('WHISTLE_CONFLICT', message, 409);
  }
}
export class UnauthorizedError extends WhistleError {
  constructor(message: string) {
    super('WHISTLE_UNAUTHORIZED', message, 401);
  }
}
export class ForbiddenError extends WhistleError {
  constructor(message: string) {
    super('WHISTLE_FORBIDDEN', message, 403);
  }
}
/** The writer's queue is full: the caller should retry after `retryAfterSeconds`. */
export class OverloadedError extends WhistleError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('WHISTLE_OVERLOADED', message, 429);
  }
}
export class StoreUnavailableError extends WhistleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WHISTLE_STORE_UNAVAILABLE', message, 503, options);
  }
}
/** A dependency (e.g. the Kafka topic) cannot take the request now: retry after `retryAfterSeconds` (HTTP 503). */
export class UnavailableError extends WhistleError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super('WHISTLE_UNAVAILABLE', message, 503, options);
  }
}
export class ConfigError extends WhistleError {
  constructor(readonly problems: string[]) {
    super('WHISTLE_CONFIG_INVALID', `invalid configuration:\n  ${problems.join('\n  ')}`, 400);
  }
}
