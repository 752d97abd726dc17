// Loads the YAML file, applies environment overrides, validates, and reports every problem at once
// with the path of the bad field.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';

export const ENV_PREFIX = 'WHISTLE_';

/**
 * Environment overrides: `WHISTLE_SERVER__PORT=9090` sets `server.port`. The value is read as a YAML
 * scalar, so numbers and booleans keep their types. `__` separates levels because names contain `_`.
 * `WHISTLE_DATA_DIR` sets the top-level `dataDir`.
 */
export function applyEnvOverrides(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out = structuredClone(raw);
  if (env.WHISTLE_DATA_DIR) out.dataDir = env.WHISTLE_DATA_DIR;
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(ENV_PREFIX) || !key.includes('__') || value === undefined) continue;
    const path = key
      .slice(ENV_PREFIX.length)
      .split('__')
      .map((p) => p.toLowerCase().replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()));
    let node: Record<string, unknown> = out;
    for (const part of path.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parseYaml(value) as unknown;
  }
  return out;
}

export function formatIssues(issues: z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((issue) => {
    const path = [...(prefix ? [prefix] : []), ...issue.path.map(String)].join('.') || '(root)';
    if (issue.code === 'unrecognized_keys') {
      return `${path}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    return `${path}: ${issue.message}`;
  });
}

/** Where a path setting lives: `section.key`, defaulting to `<dataDir>/<under>` when not given. */
export interface DataPath {
  section: string;
  key: string;
  under: string;
}

/**
 * Validates a raw config object against `schema` (after environment overrides), reporting every
 * problem at once. Path settings in `dataPaths` that the file does not give explicitly are placed
 * under `dataDir`, so one setting moves all of Whistle's state.
 */
export function parseWith<S extends z.ZodType<{ dataDir: string }>>(schema: S, dataPaths: DataPath[], raw: unknown, env: NodeJS.ProcessEnv = {}): z.infer<S> {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(['(root): expected a mapping of sections']);
  const merged = applyEnvOverrides(raw as Record<string, unknown>, env);
  const result = schema.safeParse(merged);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues));
  const cfg = result.data as z.infer<S> & Record<string, Record<string, unknown>>;
  for (const p of dataPaths) {
    const given = merged[p.section];
    if (typeof given === 'object' && given !== null && p.key in given) continue;
    const section = cfg[p.section];
    if (section) section[p.key] = join(cfg.dataDir, p.under);
  }
  return cfg;
}

/** Reads a YAML file into a raw object; a missing path means "no file" (defaults plus environment). */
export function readConfigFile(file: string | undefined): unknown {
  if (!file) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) throw new ConfigError([`${file}: YAML syntax error: ${err.message.split('\n')[0]}`]);
    throw err;
  }
}
