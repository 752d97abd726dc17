// Two ajv instances: request bodies are validated strictly (a string is never coerced into the
// number a field wants: "wrong types" must be refused), query strings are coerced because every
// query value arrives as a string.
import { Ajv, type AnySchema, type ValidateFunction } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

const strict = new Ajv({ coerceTypes: false, allErrors: false, removeAdditional: false, useDefaults: true, strict: false });
const coercing = new Ajv({ coerceTypes: true, allErrors: false, removeAdditional: false, useDefaults: true, strict: false });

type Compiled = ValidateFunction & { schemaEnv?: unknown };

/**
 * Coercion turns "Infinity" or "1e309" into Infinity, which an integer schema passes (Infinity % 1
 * is NaN, and ajv's strictNumbers skips the range checks after coercing) and which no store
 * parameter can bind: `?since=Infinity` was a 500. Query strings and params are flat, so the check
 * is one pass over their values.
 */
function finiteNumbersOnly(validate: Compiled): Compiled {
  const wrapped = ((data: unknown, ctx?: unknown) => {
    if (!validate(data, ctx as never)) {
      wrapped.errors = validate.errors;
      return false;
    }
    for (const [key, value] of Object.entries(typeof data === 'object' && data !== null ? data : {})) {
      if (typeof value === 'number' && !Number.isFinite(value)) {
        wrapped.errors = [{ instancePath: `/${key}`, schemaPath: '#', keyword: 'type', params: {}, message: 'must be a finite number' }];
        return false;
      }
    }
    wrapped.errors = null;
    return true;
  }) as Compiled;
  // fastify passes the parent object to validators that have one, so coercion can reach the root.
  wrapped.schemaEnv = validate.schemaEnv;
  return wrapped;
}

export const validatorCompiler: FastifySchemaCompiler<AnySchema> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict.compile(schema) : finiteNumbersOnly(coercing.compile(schema))) as ReturnType<FastifySchemaCompiler<AnySchema>>;
