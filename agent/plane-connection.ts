// How the agent's requests reach the management plane. Over plain HTTP (the embedded default on
// loopback) it is fetch as it is. Over HTTPS, trust comes first: nothing is sent until the plane's
// CA is pinned (plane-trust.ts), every request verifies the plane against it, and once the node
// holds a client certificate (node-certificate.ts) it is presented on every connection.
import { Agent } from 'node:https';
import type { Logger } from '../core/log.ts';
import { httpsFetch } from './https-fetch.ts';
import { NodeCertificate } from './node-certificate.ts';
import { planeCa } from './plane-trust.ts';
import type { Identity } from './token-store.ts';

export interface PlaneConnection {
  /** Resolves once requests may be sent; a PlaneTrustError means this plane must get nothing. */
  ready(): Promise<void>;
  /** Stable: the task poller holds it while certificates change underneath. */
  readonly fetch: typeof fetch;
  /** The CSR to send at registration and renewal; undefined over plain HTTP (no client certificates). */
  csr(): Promise<string | undefined>;
  acceptCertificate(pem: string): Promise<void>;
  /** After the plane refused it: later requests go without it until a new one is issued. */
  dropCertificate(): Promise<void>;
  /** A client certificate should be asked for (none held, or it nears its end). */
  certificateDue(): boolean;
  close(): void;
}

export function plainConnection(f: typeof fetch): PlaneConnection {
  return {
    ready: async () => {},
    fetch: f,
    csr: async () => undefined,
    acceptCertificate: async () => {},
    dropCertificate: async () => {},
    certificateDue: () => false,
    close: () => {},
  };
}

/** TLS verification failures, said as what they mean here. */
const VERIFY_FAILURES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export interface TlsConnectionOptions extends Identity {
  server: string;
  caCertHash: string;
  stateDir: string;
  timeoutMs: number;
  logger: Logger;
}

export class TlsPlaneConnection implements PlaneConnection {
  private ca: { pem: string; path: string } | undefined;
  private agent: Agent | undefined;
  private readonly cert: NodeCertificate;
  readonly fetch: typeof fetch;

  constructor(private readonly opts: TlsConnectionOptions) {
    this.cert = new NodeCertificate(opts.stateDir, opts);
    const send = httpsFetch(() => this.agent!);
    this.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      if (!this.agent) throw new Error('the management plane is not trusted yet (its CA is not pinned)');
      try {
        return await send(input, init);
      } catch (err) {
        throw this.explain(err);
      }
    }) as typeof fetch;
  }

  async ready(): Promise<void> {
    if (this.agent) return;
    const ca = await planeCa(this.opts);
    if (ca.discovered) this.opts.logger.info({ server: this.opts.server, caCertHash: this.opts.caCertHash, pinned: ca.path }, "management plane's CA matches agent.caCertHash: pinned");
    this.ca = ca;
    await this.cert.load();
    this.rebuild();
  }

  async csr(): Promise<string> {
    return this.cert.csr();
  }

  async acceptCertificate(pem: string): Promise<void> {
    await this.cert.accept(pem);
    this.rebuild();
  }

  async dropCertificate(): Promise<void> {
    await this.cert.drop();
    this.rebuild();
  }

  certificateDue(): boolean {
    return this.cert.renewDue();
  }

  close(): void {
    this.agent?.destroy();
  }

  /** New connections for new credentials: a kept-alive socket would go on presenting the old ones. */
  private rebuild(): void {
    if (!this.ca) return;
    this.agent?.destroy();
    const creds = this.cert.credentials;
    this.agent = new Agent({ keepAlive: true, ca: this.ca.pem, ...(creds && { cert: creds.cert, key: creds.key }) });
  }

  private explain(err: unknown): unknown {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (!code || !VERIFY_FAILURES.has(code)) return err;
    return new Error(`the management plane's certificate does not verify against the pinned CA ${this.ca?.path} (${code}: ${(err as Error).message})`);
  }
}
