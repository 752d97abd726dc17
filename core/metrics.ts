// Whistle's own health metrics (served at GET /metrics). One registry per process so tests can
// create several apps without clashing; modules receive it rather than using prom-client's global.
import { Registry, collectDefaultMetrics } from 'prom-client';

export function createRegistry(withDefaults = true): Registry {
  const registry = new Registry();
  if (withDefaults) collectDefaultMetrics({ register: registry, prefix: 'whistle_process_' });
  return registry;
}

export type { Registry };
