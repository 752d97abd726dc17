// PKI tasks: the node makes its own key and a CSR; the plane signs; the node installs the certs.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { closeSharedClients } from '../../bootstrap/etcd/client.ts';
import { ensureKeyAndCsr } from '../../bootstrap/pki/csr.ts';
import { x509 } from '../../bootstrap/pki/x509.ts';
import type { TaskHandler } from './handler.ts';
import { paths } from './node-env.ts';

export const pkiCsr: TaskHandler<'pki.csr'> = async (_p, env) => {
  const f = paths(env);
  const { csrPem, created } = await ensureKeyAndCsr(f.pkiDir, env.node);
  const certsPresent = [f.ca, f.serverCert, f.peerCert, f.clientCert].every((x) => existsSync(x));
  // The plane skips re-issuing when the node already trusts its CA and holds certificates.
  return { csrPem, keyCreated: created, certsPresent, caPem: existsSync(f.ca) ? readFileSync(f.ca, 'utf8') : null };
};

export const pkiInstall: TaskHandler<'pki.install'> = async (p, env) => {
  // Parse everything before writing anything: a bad certificate must not replace a good one.
  for (const [field, text] of Object.entries(p)) {
    try {
      new x509.X509Certificate(text);
    } catch (err) {
      throw new Error(`params.${field}: not a valid certificate (${(err as Error).message})`);
    }
  }
  const f = paths(env);
  mkdirSync(f.pkiDir, { recursive: true, mode: 0o700 });
  let changed = 0;
  for (const [file, text] of [
    [f.ca, p.caPem],
    [f.serverCert, p.serverPem],
    [f.peerCert, p.peerPem],
    [f.clientCert, p.clientPem],
  ] as const) {
    if (existsSync(file) && readFileSync(file, 'utf8') === text) continue;
    writeFileSync(file, text);
    changed++;
  }
  // Connections made with the old certificates must not be reused.
  if (changed > 0) closeSharedClients();
  return { changed };
};
