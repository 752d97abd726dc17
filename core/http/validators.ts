// Two ajv instances: request bodies are validated strictly (a string is never coerced into the
// number a field wants: "wrong types" must be refused), query strings are coerced because every
// query value arrives as a string.
import { Ajv, type AnySchema } from 'ajv';
import type { FastifySchemaCompiler } from 'fastify';

const strict = new Ajv({ coerceTypes: false, allErrors: false, removeAdditional: false, useDefaults: true, strict: false });
const coercing = new Ajv({ coerceTypes: true, allErrors: false, removeAdditional: false, useDefaults: true, strict: false });

export const validatorCompiler: FastifySchemaCompiler<AnySchema> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? strict : coercing).compile(schema) as ReturnType<FastifySchemaCompiler<AnySchema>>;
