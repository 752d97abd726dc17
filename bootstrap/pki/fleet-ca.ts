// The fleet CA: one per management plane, kept in server.fleetCaDir (ca.key mode 0600) and made at
// first start. It issues the plane's serving certificate and every node's client certificate;
// agents pin it by the hash of its public key (ca-hash.ts).
import { resolve } from 'node:path';
import { CertificateAuthority } from './ca.ts';

export const FLEET_CA_NAME = 'Whistle fleet CA';

/** Node client certificates last this long; agents renew them when a third of it is left. */
export const NODE_CERT_DAYS = 365;

// The server and the registration route both ask for the CA while a plane starts: a second
// concurrent creation in the same directory would write a different key under the first one's cert.
const creating = new Map<string, Promise<CertificateAuthority>>();

/** The fleet CA in `dir`, created there first when absent. */
export function fleetCa(dir: string): Promise<CertificateAuthority> {
  const key = resolve(dir);
  const pending = creating.get(key);
  if (pending) return pending;
  const ca = CertificateAuthority.ensure(key, FLEET_CA_NAME).finally(() => creating.delete(key));
  creating.set(key, ca);
  return ca;
}

/**
 * A node's client certificate: CN is the node, OU its cluster, from the plane's registry (never from
 * the CSR, which only proves the node holds the key).
 */
export function signNodeCertificate(ca: CertificateAuthority, csrPem: string, node: { cluster: string; node: string }): Promise<string> {
  return ca.sign(csrPem, { commonName: node.node, unit: node.cluster, role: 'client', days: NODE_CERT_DAYS });
}
