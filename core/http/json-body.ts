// The JSON body parser every route uses: fastify's own, plus one check its JSON.parse cannot make.
// A `\uD800`-`\uDFFF` escape without its pair parses into a string that is not valid Unicode; the
// store refuses such text (chDB: CANNOT_PARSE_ESCAPE_SEQUENCE), so a telemetry batch carrying one
// was answered 202 and then took down the whole write batch it shared with other nodes, and any
// operator text carrying one was a 500. It is refused here, as a 400 naming the field.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InputError } from '../errors.ts';
import { fieldPath } from './field-path.ts';

// String.prototype.isWellFormed is Node 20's, but past the ES2022 lib this project compiles with.
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed();

/** The first place in `value` holding a string (or a key) that is not well-formed UTF-16. */
function illFormedAt(value: unknown, keys: (string | number)[] = []): (string | number)[] | null {
  if (typeof value === 'string') return isWellFormed(value) ? null : keys;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = illFormedAt(value[i], [...keys, i]);
      if (at) return at;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    if (!isWellFormed(k)) return [...keys, k];
    const at = illFormedAt(v, [...keys, k]);
    if (at) return at;
  }
  return null;
}

/**
 * A body refused for its text. It carries `validation` the way fastify's schema errors do, so
 * routes that count schema refusals (telemetry's rejected_total) count it with them.
 */
export class BodyTextError extends InputError {
  readonly validationContext = 'body';
  readonly validation: { instancePath: string; message: string }[];

  constructor(keys: (string | number)[]) {
    const message = 'must be valid Unicode (an unpaired surrogate escape \\uD800-\\uDFFF is not)';
    super(`${fieldPath('body', keys)}: ${message}`);
    this.validation = [{ instancePath: keys.map((k) => `/${k}`).join(''), message }];
  }
}

type Done = (err: Error | null, body?: unknown) => void;

export function installJsonBodyParser(app: FastifyInstance): void {
  // The body prototype-poisoning scan stays off (app/http-server.ts says why).
  const parse = app.getDefaultJsonParser('ignore', 'ignore') as (req: FastifyRequest, body: string, done: Done) => void;
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    parse(req, body as string, (err, value) => {
      if (err) return done(err);
      // Only an escape can produce a lone surrogate (undecodable UTF-8 bytes become U+FFFD), and
      // agents send none: for them the whole check is one indexOf over the text.
      const at = (body as string).includes('\\u') ? illFormedAt(value) : null;
      if (at) return done(new BodyTextError(at));
      done(null, value);
    });
  });
}
