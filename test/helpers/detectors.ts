// The detectors section of a test's config: the built-in detectors a test follows, with their
// settings, and every other one off. Most tests exercise one detector's incidents; the others
// would read the same samples (or none) and open incidents the test does not count.
import { BUILTIN_DETECTORS } from '../../detectors/builtin/index.ts';
import { configKey } from '../../detectors/config.ts';

type Settings = Record<string, unknown>;

/** `on`: the config keys (lowDisk, kubeletDown, ...) to keep, each with its settings ({} for the defaults). */
export function onlyDetectors(on: Record<string, Settings>, engine: Settings = {}): Settings {
  const keys = BUILTIN_DETECTORS.map((d) => configKey(d.id));
  const unknown = Object.keys(on).filter((k) => !keys.includes(k));
  if (unknown.length) throw new Error(`onlyDetectors: no built-in detector ${unknown.join(', ')} (the keys are ${keys.join(', ')})`);
  return { ...engine, ...Object.fromEntries(keys.map((k) => [k, on[k] ?? { enabled: false }])) };
}
