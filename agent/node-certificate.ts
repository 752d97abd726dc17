// This node's client certificate for mutual TLS with the plane: a key made here and never sent
// (stateDir/tls/node.key, 0600), a CSR sent with registration or renewal, and the certificate the
// plane's fleet CA issued for it (stateDir/tls/node.crt). It is presented beside the node token.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureKeyAndCsr } from '../bootstrap/pki/csr.ts';
import { unlinkIfExists, writeFileAtomic } from './atomic-file.ts';
import type { Identity } from './token-store.ts';

export interface ClientCredentials {
  cert: string;
  key: string;
  notAfter: number;
  notBefore: number;
}

/** The RDN values of an X509Certificate subject ("CN=n1\nOU=c1\nO=Whistle"). */
function subjectField(subject: string, field: string): string | undefined {
  return subject.split('\n').find((l) => l.startsWith(`${field}=`))?.slice(field.length + 1);
}

export class NodeCertificate {
  private readonly dir: string;
  private held: ClientCredentials | undefined;

  constructor(
    stateDir: string,
    private readonly id: Identity,
  ) {
    this.dir = join(stateDir, 'tls');
  }

  get credentials(): ClientCredentials | undefined {
    return this.held;
  }

  /** Loads a stored certificate if it is this node's, for this key, and not expired. */
  async load(now = Date.now()): Promise<void> {
    try {
      const [cert, key] = await Promise.all([readFile(join(this.dir, 'node.crt'), 'utf8'), readFile(join(this.dir, 'node.key'), 'utf8')]);
      this.held = this.check(cert, key, now);
    } catch {
      this.held = undefined; // none yet, or unreadable: a new one is asked for
    }
  }

  /** A CSR for this node's key (made on first use). */
  async csr(): Promise<string> {
    return (await ensureKeyAndCsr(this.dir, this.id.node)).csrPem;
  }

  /** Keeps the certificate the plane issued; refuses one that is not for this node and key. */
  async accept(certPem: string): Promise<void> {
    const key = await readFile(join(this.dir, 'node.key'), 'utf8');
    const creds = this.check(certPem, key, Date.now());
    if (!creds) throw new Error(`the management plane issued a certificate that is not for ${this.id.cluster}/${this.id.node} and this node's key`);
    await writeFileAtomic(join(this.dir, 'node.crt'), certPem, 0o600);
    this.held = creds;
  }

  async drop(): Promise<void> {
    this.held = undefined;
    await unlinkIfExists(join(this.dir, 'node.crt'));
  }

  /** No certificate, or a third of its lifetime or less left. */
  renewDue(now = Date.now()): boolean {
    if (!this.held) return true;
    return now >= this.held.notAfter - (this.held.notAfter - this.held.notBefore) / 3;
  }

  private check(certPem: string, keyPem: string, now: number): ClientCredentials | undefined {
    const x = new X509Certificate(certPem);
    const notAfter = Date.parse(x.validTo);
    const notBefore = Date.parse(x.validFrom);
    if (subjectField(x.subject, 'CN') !== this.id.node || subjectField(x.subject, 'OU') !== this.id.cluster) return undefined;
    if (!x.checkPrivateKey(createPrivateKey(keyPem)) || now >= notAfter) return undefined;
    return { cert: certPem, key: keyPem, notAfter, notBefore };
  }
}
