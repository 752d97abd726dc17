// The cluster CA: made once per etcd cluster on the management plane, kept under its data dir (key
// mode 0600). It signs node certificates from CSRs, so node private keys never leave their node.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { importPrivateKeyPem, newKeyPair, privateKeyPem, serial, SIGN_ALG, x509 } from './x509.ts';

export type CertRole = 'server' | 'peer' | 'client';

export interface CertOptions {
  commonName: string;
  /** Subject OU: node certificates carry their cluster here, so CN + OU name the node. */
  unit?: string;
  role: CertRole;
  ips?: string[];
  dnsNames?: string[];
  days?: number;
}

export interface CaFiles {
  certPem: string;
  keyPem: string;
}

const DAY = 24 * 3600_000;

export class CertificateAuthority {
  private constructor(
    readonly cert: x509.X509Certificate,
    private readonly key: CryptoKey,
    readonly certPem: string,
  ) {}

  /** Loads the CA from `dir`, creating it first when absent (idempotent). */
  static async ensure(dir: string, commonName: string): Promise<CertificateAuthority> {
    const certPath = join(dir, 'ca.crt');
    const keyPath = join(dir, 'ca.key');
    if (existsSync(certPath) && existsSync(keyPath)) return CertificateAuthority.load(readFileSync(certPath, 'utf8'), readFileSync(keyPath, 'utf8'));
    const keys = await newKeyPair();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: `CN=${commonName}, O=Whistle`,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 10 * 365 * DAY),
      signingAlgorithm: SIGN_ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keyPem = await privateKeyPem(keys.privateKey);
    writeFileSync(keyPath, keyPem, { mode: 0o600 });
    writeFileSync(certPath, cert.toString('pem'));
    return new CertificateAuthority(cert, keys.privateKey, cert.toString('pem'));
  }

  static async load(certPem: string, keyPem: string): Promise<CertificateAuthority> {
    return new CertificateAuthority(new x509.X509Certificate(certPem), await importPrivateKeyPem(keyPem), certPem);
  }

  /**
   * Signs a certificate for the public key in `csrPem`. The names come from the caller (the plane's
   * own view of the node), never from the CSR: a node cannot ask for someone else's address.
   */
  async sign(csrPem: string, opts: CertOptions): Promise<string> {
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    if (!(await csr.verify())) throw new Error('CSR signature does not verify');
    return this.issueFor(csr.publicKey, opts);
  }

  /** A key made here and a certificate for it: for the plane's own serving certificate, whose key never leaves this process. */
  async issueWithKey(opts: CertOptions): Promise<{ certPem: string; keyPem: string }> {
    const keys = await newKeyPair();
    return { certPem: await this.issueFor(keys.publicKey, opts), keyPem: await privateKeyPem(keys.privateKey) };
  }

  private async issueFor(publicKey: x509.PublicKey | CryptoKey, opts: CertOptions): Promise<string> {
    const now = Date.now();
    const usages =
      opts.role === 'client'
        ? [x509.ExtendedKeyUsage.clientAuth]
        : // etcd's own gRPC gateway and peers dial with these certs too: they need both usages.
          [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
    const names = [
      ...(opts.ips ?? []).map((value) => {
        if (!isIP(value)) throw new Error(`not an IP address: ${value}`);
        return { type: 'ip' as const, value };
      }),
      ...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ];
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${opts.commonName}${opts.unit ? `, OU=${opts.unit}` : ''}, O=Whistle`,
      issuer: this.cert.subject,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + (opts.days ?? 365) * DAY),
      signingAlgorithm: SIGN_ALG,
      publicKey,
      signingKey: this.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension(usages, false),
        ...(names.length ? [new x509.SubjectAlternativeNameExtension(names, false)] : []),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert, false),
      ],
    });
    return cert.toString('pem');
  }
}
