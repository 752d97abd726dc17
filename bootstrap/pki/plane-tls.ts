// What the management plane serves HTTPS with: a serving certificate (the operator's own files, or
// one issued from the fleet CA at each start, so its names always match the config), the CA agents
// pin, and the fleet CA that client certificates must chain to.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { ServerConfig } from '../../core/config/schema.ts';
import { ConfigError } from '../../core/errors.ts';
import { caCertHash } from './ca-hash.ts';
import { fleetCa } from './fleet-ca.ts';

export interface PlaneTls {
  key: string;
  cert: string;
  /** The fleet CA: a presented client certificate must chain to it. */
  clientCa: string;
  /** The CA that issued `cert`: served at GET /v1/ca, pinned by agents. */
  servedCa: string;
}

type TlsSettings = Pick<ServerConfig, 'host' | 'publicUrl' | 'tls' | 'fleetCaDir'>;

/** A restart re-issues the serving certificate, so this only has to outlast one run of the plane. */
const SERVING_CERT_DAYS = 397;

function readSetting(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError([`server.tls.${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`]);
  }
}

/** undefined when the plane serves plain HTTP (server.tls.enabled false: loopback only). */
export async function planeTls(server: TlsSettings): Promise<PlaneTls | undefined> {
  if (!server.tls.enabled) return undefined;
  const ca = await fleetCa(server.fleetCaDir);
  const { certFile, keyFile, caFile } = server.tls;
  if (certFile && keyFile && caFile) {
    return { cert: readSetting('certFile', certFile), key: readSetting('keyFile', keyFile), servedCa: readSetting('caFile', caFile), clientCa: ca.certPem };
  }
  const issued = await ca.issueWithKey({ commonName: 'Whistle management plane', role: 'server', days: SERVING_CERT_DAYS, ...servingNames(server) });
  return { cert: issued.certPem, key: issued.keyPem, servedCa: ca.certPem, clientCa: ca.certPem };
}

/** The CA agents pin, as `agent.caCertHash` takes it; undefined over plain HTTP. */
export async function planeCaCertHash(server: TlsSettings): Promise<string | undefined> {
  if (!server.tls.enabled) return undefined;
  return caCertHash(await servedCaPem(server));
}

export async function servedCaPem(server: TlsSettings): Promise<string> {
  if (server.tls.caFile) return readSetting('caFile', server.tls.caFile);
  return (await fleetCa(server.fleetCaDir)).certPem;
}

/** Every name an agent may dial this plane by (see server.tls.sans). */
export function servingNames(server: TlsSettings): { ips: string[]; dnsNames: string[] } {
  const ips = new Set(['127.0.0.1', '::1']);
  const dnsNames = new Set(['localhost', hostname()]);
  const add = (name: string) => {
    const bare = name.replace(/^\[(.*)\]$/, '$1');
    if (isIP(bare)) ips.add(bare);
    else if (bare) dnsNames.add(bare.toLowerCase());
  };
  const wildcard = server.host === '0.0.0.0' || server.host === '::';
  if (wildcard) {
    for (const addrs of Object.values(networkInterfaces())) for (const a of addrs ?? []) if (!a.internal && !a.address.startsWith('fe80:')) ips.add(a.address);
  } else {
    add(server.host);
  }
  if (server.publicUrl) add(new URL(server.publicUrl).hostname);
  for (const name of server.tls.sans) add(name);
  return { ips: [...ips], dnsNames: [...dnsNames] };
}
