// The whole configuration file's schema: the base sections the composition root reads (core), the
// agent's section (`whistle start` runs one), and every section a builtin stage registers. Unknown
// keys are rejected everywhere, so a typo in YAML is an error naming the key.
import { z } from 'zod';
import { agentSchema } from '../agent/config.ts';
import { parseWith, readConfigFile, type DataPath } from '../core/config/load.ts';
import { baseSections } from '../core/config/schema.ts';
import type { AnyStage, SectionsOf } from '../core/stage.ts';
import { builtinStages } from './stages.ts';

/** Each stage's section once; two stages may share one section only through the same schema. */
export function stageSections(stages: readonly AnyStage[]): Record<string, z.ZodType> {
  const out: Record<string, z.ZodType> = {};
  const owner = new Map<string, string>();
  for (const s of stages) {
    if (!s.config) continue;
    const { section, schema } = s.config;
    if (section in baseSections || section === 'agent') throw new Error(`stage "${s.id}" registers section "${section}", which the core owns`);
    const prev = out[section];
    if (prev && prev !== schema) throw new Error(`stages "${owner.get(section)}" and "${s.id}" register different schemas for section "${section}"`);
    out[section] = schema;
    owner.set(section, s.id);
  }
  return out;
}

function composeSchema(stages: readonly AnyStage[]) {
  const sections = Object.fromEntries(
    // Every section may be left out of the file: its defaults apply.
    Object.entries(stageSections(stages)).map(([k, schema]) => [k, (schema as z.ZodType<unknown, object>).prefault({})]),
  );
  return z.strictObject({ ...baseSections, agent: agentSchema.prefault({}), ...sections });
}

export const configSchema = composeSchema(builtinStages);

type BaseConfig = z.infer<z.ZodObject<typeof baseSections>>;
export type WhistleConfig = BaseConfig & { agent: z.infer<typeof agentSchema> } & SectionsOf<typeof builtinStages>;

/** Path settings placed under `dataDir` unless the file gives them. */
const dataPaths: DataPath[] = [
  { section: 'store', key: 'path', under: 'chdb' },
  { section: 'server', key: 'fleetCaDir', under: 'fleet-ca' },
  { section: 'writer', key: 'spoolDir', under: 'spool' },
  { section: 'agent', key: 'stateDir', under: 'agent' },
  { section: 'etcd', key: 'pkiDir', under: 'etcd-pki' },
];

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): WhistleConfig {
  return parseWith(configSchema, dataPaths, raw, env) as WhistleConfig;
}

/** Reads and validates a config file; a missing path means "defaults plus environment". */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): WhistleConfig {
  return parseConfig(readConfigFile(file), env);
}
