// One allowed task kind: a name, a strict zod schema for its parameters, optional extra checks, and
// the handler. Only kinds built with this and listed in the allow-list (registry.ts) can run.
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
  ...fns:
    | [run: (p: z.infer<S>, env: NodeEnv, signal: AbortSignal) => Promise<Record<string, unknown>>]
    | [check: (p: z.infer<S>) => Promise<unknown>, run: (p: z.infer<S>, env: NodeEnv, signal: AbortSignal) => Promise<Record<string, unknown>>]
): TaskKind<S> {
  const [check, run] = fns.length === 2 ? fns : [undefined, fns[0]];
  return {
    kind,
    schema,
    async run(p, env, signal) {
      if (check) await check(p);
      return run(p, env, signal);
    },
  };
}
