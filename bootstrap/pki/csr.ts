// Node side of the PKI: a key made and kept on the node, and a CSR that proves possession of it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crypto, EC_ALG, importPrivateKeyPem, newKeyPair, privateKeyPem, SIGN_ALG, x509 } from './x509.ts';

/** Creates `node.key` in `dir` unless present (idempotent) and returns a CSR for it. */
export async function ensureKeyAndCsr(dir: string, commonName: string): Promise<{ csrPem: string; created: boolean }> {
  const keyPath = join(dir, 'node.key');
  let keys: CryptoKeyPair;
  let created = false;
  if (existsSync(keyPath)) {
    const privateKey = await importPrivateKeyPem(readFileSync(keyPath, 'utf8'));
    // WebCrypto cannot derive the public half from a PKCS#8 key directly: go through JWK.
    const jwk = await crypto.subtle.exportKey('jwk', privateKey);
    const publicKey = await crypto.subtle.importKey('jwk', { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, ext: true }, EC_ALG, true, ['verify']);
    keys = { privateKey, publicKey };
  } else {
    keys = await newKeyPair();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyPath, await privateKeyPem(keys.privateKey), { mode: 0o600 });
    created = true;
  }
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName}`, keys, signingAlgorithm: SIGN_ALG });
  return { csrPem: csr.toString('pem'), created };
}

/** Throws, saying why, unless `pem` is a PKCS#10 request whose signature proves possession of its key. */
export async function checkCsr(pem: string): Promise<void> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (err) {
    throw new Error(`not a PEM certificate request (${(err as Error).message})`);
  }
  if (!(await csr.verify())) throw new Error('the request is not signed by the key it names');
}
