// Loads the YAML file, applies environment overrides, validates, and reports every problem at once
// with the path of the bad field.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { configSchema, type WhistleConfig } from './schema.ts';

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

export function parseConfig(raw: unknown, env: NodeJS.ProcessEnv = {}): WhistleConfig {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(['(root): expected a mapping of sections']);
  const merged = applyEnvOverrides(raw as Record<string, unknown>, env);
  const result = configSchema.safeParse(merged);
  if (!result.success) throw new ConfigError(formatIssues(result.error.issues));
  return placeUnderDataDir(result.data, merged);
}

/** Paths not given explicitly live under `dataDir`, so one setting moves all of Whistle's state. */
function placeUnderDataDir(cfg: WhistleConfig, raw: Record<string, unknown>): WhistleConfig {
  const given = (section: string, key: string) => {
    const s = raw[section];
    return typeof s === 'object' && s !== null && key in s;
  };
  if (!given('store', 'path')) cfg.store.path = join(cfg.dataDir, 'chdb');
  if (!given('writer', 'spoolDir')) cfg.writer.spoolDir = join(cfg.dataDir, 'spool');
  if (!given('agent', 'stateDir')) cfg.agent.stateDir = join(cfg.dataDir, 'agent');
  return cfg;
}

/** Reads and validates a config file; a missing path means "defaults plus environment". */
export function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): WhistleConfig {
  if (!file) return parseConfig({}, env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    if (err instanceof YAMLParseError) throw new ConfigError([`${file}: YAML syntax error: ${err.message.split('\n')[0]}`]);
    throw err;
  }
  return parseConfig(raw, env);
}
