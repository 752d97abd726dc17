// Which detectors run, with which settings: the built-ins (settings from their own config sections)
// and the modules named in `detectors.modules` (dynamic import; settings from `plugins.<id>`). Every
// problem is collected and reported at once as a ConfigError naming the config path.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { formatIssues } from '../core/config/load.ts';
import { ConfigError } from '../core/errors.ts';
import { DETECTOR_ID, type Detector } from './api.ts';
import { BUILTIN_DETECTORS } from './builtin/index.ts';
import { commonDetectorFields, configKey, type DetectorsConfig } from './config.ts';

export interface LoadedDetector {
  detector: Detector;
  config: Record<string, unknown>;
  enabled: boolean;
  timeoutMs: number;
}

function isDetector(x: unknown): x is Detector {
  const d = x as Partial<Detector> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.id === 'string' &&
    typeof d.description === 'string' &&
    typeof d.evaluate === 'function' &&
    typeof (d.configSchema as { safeParse?: unknown } | undefined)?.safeParse === 'function'
  );
}

/** A module's detectors: its default export (one or an array) or a `detectors` array export. */
function detectorsOf(mod: Record<string, unknown>): unknown[] {
  const d = mod.default ?? mod.detectors;
  return Array.isArray(d) ? d : d === undefined ? [] : [d];
}

export async function importDetectorModules(paths: readonly string[], cwd = process.cwd()): Promise<{ detectors: Detector[]; problems: string[] }> {
  const detectors: Detector[] = [];
  const problems: string[] = [];
  for (const [i, p] of paths.entries()) {
    const where = `detectors.modules[${i}]`;
    let mod: Record<string, unknown>;
    try {
      // A TypeScript module needs tsx's loader, which the bundled `whistle` does not register up front.
      if (/\.[cm]?ts$/.test(p)) await registerTsxOnce();
      mod = (await import(pathToFileURL(isAbsolute(p) ? p : resolve(cwd, p)).href)) as Record<string, unknown>;
    } catch (err) {
      problems.push(`${where}: cannot load "${p}": ${(err as Error).message.split('\n')[0]}`);
      continue;
    }
    const found = detectorsOf(mod);
    if (found.length === 0) problems.push(`${where}: "${p}" exports no detector (default export or "detectors" array)`);
    for (const d of found) {
      if (!isDetector(d)) {
        problems.push(`${where}: "${p}" exports something that is not a detector (needs id, description, configSchema, evaluate)`);
        continue;
      }
      if (!DETECTOR_ID.test(d.id)) {
        problems.push(`${where}: detector id "${d.id}" must be lower-case kebab-case`);
        continue;
      }
      detectors.push(d);
    }
  }
  return { detectors, problems };
}

const common = z.object(commonDetectorFields);

/**
 * Resolves the enabled set and each detector's parsed settings. Built-ins use their (already parsed)
 * sections; `extra` detectors (modules, tests) are parsed from `plugins.<id>`.
 */
export function resolveDetectors(cfg: DetectorsConfig, extra: readonly Detector[], builtins: readonly Detector[] = BUILTIN_DETECTORS): LoadedDetector[] {
  const problems: string[] = [];
  const out: LoadedDetector[] = [];
  const seen = new Set<string>();
  const sections = cfg as unknown as Record<string, Record<string, unknown> | undefined>;
  for (const d of builtins) {
    seen.add(d.id);
    const { enabled, timeoutMs, ...config } = (sections[configKey(d.id)] ?? {}) as { enabled?: boolean; timeoutMs?: number };
    out.push({ detector: d, config, enabled: enabled ?? true, timeoutMs: timeoutMs ?? cfg.timeoutMs });
  }
  for (const d of extra) {
    if (seen.has(d.id)) {
      problems.push(`detectors.modules: detector id "${d.id}" is loaded twice (or shadows a built-in)`);
      continue;
    }
    seen.add(d.id);
    const raw = cfg.plugins[d.id] ?? {};
    const { enabled, timeoutMs, ...rest } = raw;
    const c = common.safeParse({ enabled, timeoutMs });
    if (!c.success) problems.push(...formatIssues(c.error.issues, `detectors.plugins.${d.id}`));
    const parsed = d.configSchema.safeParse(rest);
    if (!parsed.success) {
      problems.push(...formatIssues(parsed.error.issues, `detectors.plugins.${d.id}`));
      continue;
    }
    if (c.success) out.push({ detector: d, config: parsed.data as Record<string, unknown>, enabled: c.data.enabled, timeoutMs: c.data.timeoutMs ?? cfg.timeoutMs });
  }
  for (const id of Object.keys(cfg.plugins)) {
    if (!seen.has(id)) problems.push(`detectors.plugins.${id}: no detector with this id is loaded (see detectors.modules)`);
    else if (builtins.some((b) => b.id === id)) problems.push(`detectors.plugins.${id}: "${id}" is built in; configure it under detectors.${configKey(id)}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}

let tsxRegistered: Promise<void> | undefined;
function registerTsxOnce(): Promise<void> {
  tsxRegistered ??= import('tsx/esm/api').then((m) => {
    m.register();
  });
  return tsxRegistered;
}
