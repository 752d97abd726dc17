// Who this agent says it is when it registers: node name, address and version.
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';

/** The host name made into a valid node name (config `name` rule: 1-63 of [A-Za-z0-9._-]). */
export function defaultNodeName(host = hostname()): string {
  const cleaned = host.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63);
  return cleaned || 'node';
}

/** The first non-loopback IPv4 address (what an operator recognises), else the host name. */
export function defaultAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return hostname();
}

export const AGENT_VERSION: string = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
})();
