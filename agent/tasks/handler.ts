// One allowed task kind: a name, a strict zod schema for its parameters, and the handler. Only
// kinds built with this and listed in the allow-list (registry.ts) can run.
import type { z } from 'zod';
import type { NodeEnv } from './node-env.ts';

export interface TaskKind<S extends z.ZodType = z.ZodType> {
  kind: string;
  schema: S;
  run(params: z.infer<S>, env: NodeEnv, signal: AbortSignal): Promise<Record<string, unknown>>;
}

export function defineTask<S extends z.ZodType>(
  kind: string,
  schema: S,
  run: (p: z.infer<S>, env: NodeEnv, signal: AbortSignal) => Promise<Record<string, unknown>>,
): TaskKind<S> {
  return { kind, schema, run };
}
