// The pin an agent is given with its join token, as kubeadm's --discovery-token-ca-cert-hash:
// "sha256:" and the hex SHA-256 of the CA certificate's DER SubjectPublicKeyInfo (RFC 7469 style).
// Hashing the public key rather than the whole certificate keeps the pin valid when the CA
// certificate is re-issued with the same key, and anyone can recompute it with openssl:
//   openssl x509 -in ca.crt -pubkey -noout | openssl pkey -pubin -outform der | sha256sum
import { createHash, X509Certificate } from 'node:crypto';

export const CA_CERT_HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

export function caCertHash(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}
