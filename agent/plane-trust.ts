// How a new agent comes to trust the right management plane, kubeadm's token discovery: it is
// given the hash of the plane's CA with its join token (agent.caCertHash), fetches the CA from the
// plane without trusting anything yet (GET /v1/ca: a certificate, no secret), and keeps it only if
// its public key has that hash. From then on every request verifies the plane's certificate
// against that CA, pinned in stateDir/plane-ca.crt; a plane that cannot show it gets nothing.
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { Agent } from 'node:https';
import { join } from 'node:path';
import { caCertHash } from '../bootstrap/pki/ca-hash.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { httpsFetch } from './https-fetch.ts';

export const PINNED_CA_FILE = 'plane-ca.crt';

/** The plane offered a CA that is not the one this agent was told to trust: send it nothing. */
export class PlaneTrustError extends Error {
  override readonly name = 'PlaneTrustError';
}

export interface PlaneTrustOptions {
  server: string;
  caCertHash: string;
  stateDir: string;
  timeoutMs: number;
}

async function pinnedCa(path: string, expected: string): Promise<string | undefined> {
  let pem: string;
  try {
    pem = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    // A pin for another hash means agent.caCertHash was changed: the config is what to trust.
    return caCertHash(pem) === expected ? pem : undefined;
  } catch {
    return undefined;
  }
}

/** The CA to verify the plane with: the pinned one, else the plane's own once its hash matches (then pinned). */
export async function planeCa(opts: PlaneTrustOptions): Promise<{ pem: string; path: string; discovered: boolean }> {
  const path = join(opts.stateDir, PINNED_CA_FILE);
  const pinned = await pinnedCa(path, opts.caCertHash);
  if (pinned) return { pem: pinned, path, discovered: false };
  // Nothing is trusted yet, so the connection is not verified; what it brings is checked below.
  const insecure = new Agent({ rejectUnauthorized: false });
  let res: Response;
  try {
    res = await httpsFetch(() => insecure)(new URL('v1/ca', opts.server.endsWith('/') ? opts.server : `${opts.server}/`), { signal: AbortSignal.timeout(opts.timeoutMs) });
  } finally {
    insecure.destroy();
  }
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /v1/ca answered ${res.status}: ${text.slice(0, 300)}`);
  let caCert: unknown;
  try {
    caCert = (JSON.parse(text) as { caCert?: unknown }).caCert;
  } catch {
    caCert = undefined;
  }
  if (typeof caCert !== 'string') throw new PlaneTrustError(`the management plane at ${opts.server} did not answer GET /v1/ca with a CA certificate`);
  let got: string;
  let isCa: boolean;
  try {
    got = caCertHash(caCert);
    isCa = new X509Certificate(caCert).ca;
  } catch (err) {
    throw new PlaneTrustError(`the management plane at ${opts.server} sent a CA that does not parse (${(err as Error).message})`);
  }
  if (got !== opts.caCertHash) {
    throw new PlaneTrustError(`the management plane at ${opts.server} presents CA ${got}, not agent.caCertHash ${opts.caCertHash}: refusing to send it anything`);
  }
  if (!isCa) throw new PlaneTrustError(`the certificate the management plane at ${opts.server} presents as its CA is not a CA certificate`);
  await writeFileAtomic(path, caCert, 0o600);
  return { pem: caCert, path, discovered: true };
}
