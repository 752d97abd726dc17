// Drains the spool to the management plane, oldest batch first, one request in flight. A batch leaves
// the spool only after a 202, so nothing is lost however long the server is away. What each answer
// means (the ingest contract):
//   202            delivered: delete the batch, go on at once
//   401            our token is unknown: forget it, register again (after a backoff pause, so a server
//                  that rejects every token does not get a registration storm)
//   401 WHISTLE_CLIENT_CERT_REFUSED   our client certificate (HTTPS) is expired or not the plane's:
//                  keep the batch and the token, drop the certificate, ask for a new one
//   403            node pending authorization: keep the batch, ask again later
//   429            overloaded: wait exactly Retry-After (seconds or HTTP date), then retry
//   400 / 413      this batch will never be accepted: if it was several spool files merged, send them
//                  one at a time to find the bad one; a single bad file goes to dead-letter, logged as
//                  an error, and later batches flow again
//   other / 5xx / network error / timeout: retry with exponential backoff and jitter
// Over HTTPS nothing at all is sent until the plane's CA matches agent.caCertHash (plane-connection.ts).
import { randomUUID } from 'node:crypto';
import type { Logger } from '../core/log.ts';
import { Backoff, sleep } from '../core/backoff.ts';
import type { DeadLetter } from './dead-letter.ts';
import type { PlaneConnection } from './plane-connection.ts';
import { PlaneTrustError } from './plane-trust.ts';
import type { Lease, Spool } from './spool.ts';
import type { AgentStats } from './stats.ts';
import type { TokenStore } from './token-store.ts';

export interface SenderOptions {
  server: string;
  cluster: string;
  node: string;
  joinToken: string | undefined;
  address: string;
  agentVersion: string;
  zone?: string;
  requestTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
  spool: Spool;
  deadLetter: DeadLetter;
  tokens: TokenStore;
  stats: AgentStats;
  logger: Logger;
  connection: PlaneConnection;
}

/** Longest Retry-After honoured; a larger value is treated as this (an hour of silence is a bug). */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.min(Number(v) * 1000, MAX_RETRY_AFTER_MS);
  const at = Date.parse(v);
  if (!Number.isFinite(at)) return undefined;
  return Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

type Outcome =
  | { kind: 'delivered' }
  | { kind: 'unknown-token' }
  | { kind: 'cert-refused'; reason: string }
  | { kind: 'pending' }
  | { kind: 'throttled'; waitMs: number | undefined }
  | { kind: 'rejected'; status: number; reason: string }
  | { kind: 'failed'; reason: string; detail: string };

export class Sender {
  private readonly abort = new AbortController();
  /**
   * Names this sender's run in the `x-whistle-batch` header (`<epoch>:<last spool seq>`), so the
   * server can recognise a batch it already accepted when only its answer was lost and we resend.
   * A new epoch per start: spool sequence numbers may restart after the spool empties.
   */
  private readonly epoch = randomUUID();
  private loop: Promise<void> | undefined;
  private token: string | undefined;
  private readonly backoff: Backoff;
  /** After a merged batch was rejected, files up to this seq are sent one at a time. */
  private isolateThroughSeq = 0;
  /**
   * After a request whose answer never came (connection cut, timeout), the plane may have kept it:
   * the same files go again, alone, under the same tag, so the plane recognises them as a resend.
   * Merged with files collected meanwhile they would carry a higher tag and be stored twice.
   */
  private resendSame: { firstSeq: number; entries: number } | null = null;
  /** The last problem logged at warn level; repeats are logged at debug until it changes. */
  private lastProblem = '';
  /** When a failed certificate request may be tried again (the token alone keeps telemetry flowing meanwhile). */
  private certRetryAt = 0;

  constructor(private readonly opts: SenderOptions) {
    this.backoff = new Backoff({ initialMs: opts.retryInitialMs, maxMs: opts.retryMaxMs });
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.token = await this.opts.tokens.load(this.identity());
    this.loop = this.run().catch((err: unknown) => this.opts.logger.error({ err }, 'agent sender stopped unexpectedly'));
  }

  /** Lets the request in flight finish (bounded by requestTimeoutMs), then stops. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** The current node token, if registered (for components that talk to the server as this node). */
  get nodeToken(): string | undefined {
    return this.token;
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private identity() {
    return { cluster: this.opts.cluster, node: this.opts.node };
  }

  private pause(ms: number): Promise<void> {
    return sleep(ms, this.abort.signal);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (!(await this.trusted())) {
        await this.pause(this.backoff.next());
        continue;
      }
      if (!this.token) {
        if (!(await this.register())) await this.pause(this.backoff.next());
        continue;
      }
      if (this.opts.connection.certificateDue() && Date.now() >= this.certRetryAt) await this.renewCertificate();
      await this.opts.spool.waitForData(this.abort.signal);
      if (this.stopping) break;
      // Merge files into one request unless stepping through a group that was rejected as a whole.
      const head = this.opts.spool.headSeq();
      const again = this.resendSame && head === this.resendSame.firstSeq ? this.resendSame.entries : Infinity;
      const lease = await this.opts.spool.lease(head !== undefined && head <= this.isolateThroughSeq ? 1 : again);
      if (!lease) continue;
      await this.handle(lease, await this.post(lease));
    }
  }

  private async handle(lease: Lease, outcome: Outcome): Promise<void> {
    const { spool, stats, logger } = this.opts;
    // Any answer settles what the plane did with the request; only a lost one leaves it open.
    this.resendSame = outcome.kind === 'failed' ? { firstSeq: lease.firstSeq, entries: lease.entries.length } : null;
    switch (outcome.kind) {
      case 'delivered':
        await spool.ack(lease);
        stats.sent(lease.samples.length);
        this.backoff.reset();
        this.problemCleared();
        return;
      case 'unknown-token':
        spool.release(lease);
        stats.sendFailure('unknown_token');
        this.problem('unknown-token', 'management plane does not know our node token: registering again');
        this.token = undefined;
        await this.opts.tokens.clear();
        await this.pause(this.backoff.next());
        return;
      case 'cert-refused':
        spool.release(lease);
        stats.sendFailure('client_cert_refused');
        await this.certificateRefused(outcome.reason);
        await this.pause(this.backoff.next());
        return;
      case 'pending':
        spool.release(lease);
        stats.sendFailure('pending_authorization');
        this.problem('pending', 'node is pending authorization: keeping telemetry on disk until an operator authorizes it', {
          spooledSamples: spool.samples,
        });
        await this.pause(this.backoff.next());
        return;
      case 'throttled': {
        spool.release(lease);
        stats.sendFailure('throttled');
        const waitMs = outcome.waitMs ?? this.backoff.next();
        this.problem('throttled', 'management plane is overloaded (429): waiting before retrying', { waitMs });
        await this.pause(waitMs);
        return;
      }
      case 'rejected':
        if (lease.entries.length > 1) {
          // Several spool files were merged; find the one the server refuses instead of losing them all.
          spool.release(lease);
          this.isolateThroughSeq = lease.lastSeq;
          logger.warn({ status: outcome.status, reason: outcome.reason, batches: lease.entries.length }, 'merged batch rejected: retrying its parts one by one');
          return;
        }
        stats.sendFailure(`http_${outcome.status}`);
        await this.deadLetter(lease, outcome.status, outcome.reason);
        return;
      case 'failed':
        spool.release(lease);
        stats.sendFailure(outcome.reason);
        this.problem(outcome.reason, 'cannot deliver telemetry: will retry', { detail: outcome.detail, spooledSamples: spool.samples });
        await this.pause(this.backoff.next());
        return;
    }
  }

  private async deadLetter(lease: Lease, status: number, reason: string): Promise<void> {
    const { spool, stats, logger, deadLetter, cluster, node } = this.opts;
    let file: string | undefined;
    try {
      file = await deadLetter.write({ status, reason, cluster, node, deadLetteredAt: new Date().toISOString(), samples: lease.samples });
    } catch (err) {
      // Keeping the batch would block the queue forever; the error log below is its last trace.
      logger.error({ err }, 'cannot write dead-letter file');
    }
    await spool.ack(lease);
    stats.deadLettered(lease.samples.length);
    logger.error(
      { status, reason, samples: lease.samples.length, firstSample: lease.samples[0], deadLetterFile: file },
      'management plane rejected a telemetry batch for good: moved to dead-letter, continuing with the next batches',
    );
  }

  private problem(key: string, msg: string, extra: Record<string, unknown> = {}, severity: 'warn' | 'error' = 'warn'): void {
    const level = key === this.lastProblem ? 'debug' : severity;
    this.lastProblem = key;
    this.opts.logger[level]({ server: this.opts.server, ...extra }, msg);
  }

  private problemCleared(): void {
    if (this.lastProblem) this.opts.logger.info({ server: this.opts.server }, 'telemetry is being delivered again');
    this.lastProblem = '';
  }

  private url(path: string): string {
    return new URL(path, this.opts.server.endsWith('/') ? this.opts.server : `${this.opts.server}/`).toString();
  }

  private async post(lease: Lease): Promise<Outcome> {
    const body = JSON.stringify({ cluster: this.opts.cluster, node: this.opts.node, samples: lease.samples });
    let res: Response;
    let text: string;
    try {
      res = await this.opts.connection.fetch(this.url('v1/telemetry'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}`, 'x-whistle-batch': `${this.epoch}:${lease.lastSeq}` },
        body,
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
      });
      text = await res.text();
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return { kind: 'failed', reason: timeout ? 'timeout' : 'unreachable', detail: describe(err) };
    }
    if (res.status >= 200 && res.status < 300) return { kind: 'delivered' };
    const refusal = certRefusal(res.status, text);
    if (refusal) return { kind: 'cert-refused', reason: refusal };
    if (res.status === 401) return { kind: 'unknown-token' };
    if (res.status === 403) return { kind: 'pending' };
    if (res.status === 429) return { kind: 'throttled', waitMs: parseRetryAfter(res.headers.get('retry-after')) };
    if (res.status === 400 || res.status === 413) return { kind: 'rejected', status: res.status, reason: text.slice(0, 2000) };
    return { kind: 'failed', reason: res.status >= 500 ? 'server_error' : `http_${res.status}`, detail: `${res.status} ${text.slice(0, 500)}` };
  }

  /** Registers with the join token; true when a node token was obtained and stored. */
  private async register(): Promise<boolean> {
    const { logger, joinToken, cluster, node } = this.opts;
    if (!joinToken) {
      this.problem('no-join-token', 'agent.joinToken is not set and no node token is stored: cannot register (telemetry stays on disk)');
      return false;
    }
    let res: Response;
    let text: string;
    try {
      const csr = await this.opts.connection.csr();
      res = await this.opts.connection.fetch(this.url('v1/register'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ cluster, node, joinToken, address: this.opts.address, agentVersion: this.opts.agentVersion, ...(this.opts.zone && { zone: this.opts.zone }), ...(csr && { csr }) }),
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
      });
      text = await res.text();
    } catch (err) {
      this.problem('register-unreachable', 'cannot reach the management plane to register: will retry', { detail: describe(err) });
      return false;
    }
    const refusal = certRefusal(res.status, text);
    if (refusal) {
      await this.certificateRefused(refusal);
      return false;
    }
    if (res.status === 401) {
      this.problem('register-401', 'management plane rejected agent.joinToken (401): check the cluster join token');
      return false;
    }
    if (res.status < 200 || res.status >= 300) {
      this.problem(`register-${res.status}`, 'registration refused: will retry', { status: res.status, detail: text.slice(0, 500) });
      return false;
    }
    let parsed: { status?: unknown; token?: unknown; certificate?: unknown };
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = {};
    }
    if (typeof parsed.token !== 'string' || !parsed.token) {
      this.problem('register-bad-answer', 'registration answer has no token: will retry', { status: res.status });
      return false;
    }
    await this.opts.tokens.save(this.identity(), parsed.token);
    this.token = parsed.token;
    if (typeof parsed.certificate === 'string') await this.acceptCertificate(parsed.certificate);
    logger.info({ cluster, node, status: parsed.status }, parsed.status === 'authorized' ? 'registered: node is authorized' : 'registered: waiting for an operator to authorize this node');
    return true;
  }

  /** Over HTTPS: the plane's CA is pinned (false, logged, while it cannot be; never anything sent to a plane that does not match). */
  private async trusted(): Promise<boolean> {
    try {
      await this.opts.connection.ready();
      return true;
    } catch (err) {
      if (err instanceof PlaneTrustError) this.problem('plane-untrusted', err.message, {}, 'error');
      else this.problem('plane-ca-unreachable', "cannot fetch the management plane's CA (GET /v1/ca) to check it against agent.caCertHash: will retry", { detail: describe(err) });
      return false;
    }
  }

  private async acceptCertificate(pem: string): Promise<void> {
    try {
      await this.opts.connection.acceptCertificate(pem);
      this.opts.logger.info({ cluster: this.opts.cluster, node: this.opts.node }, 'client certificate issued by the management plane: presenting it from now on');
    } catch (err) {
      this.opts.logger.error({ err: describe(err) }, 'cannot keep the client certificate the management plane issued: going on with the node token alone');
      this.certRetryAt = Date.now() + this.opts.retryMaxMs;
    }
  }

  private async certificateRefused(reason: string): Promise<void> {
    this.problem('client-cert-refused', 'management plane refused our client certificate: dropping it and asking for a new one', { reason });
    await this.opts.connection.dropCertificate();
    this.certRetryAt = 0;
  }

  /**
   * Asks for a (new) client certificate with the node token. Failing is not fatal, the token alone
   * is still accepted, so it is retried only after retryMaxMs.
   */
  private async renewCertificate(): Promise<void> {
    this.certRetryAt = Date.now() + this.opts.retryMaxMs;
    let res: Response;
    let text: string;
    try {
      const csr = await this.opts.connection.csr();
      if (!csr) return;
      res = await this.opts.connection.fetch(this.url('v1/agent/certificate'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
        body: JSON.stringify({ csr }),
        signal: AbortSignal.timeout(this.opts.requestTimeoutMs),
      });
      text = await res.text();
    } catch (err) {
      this.opts.logger.debug({ detail: describe(err) }, 'cannot ask for a client certificate now: will retry');
      return;
    }
    const refusal = certRefusal(res.status, text);
    if (refusal) return this.certificateRefused(refusal);
    if (res.status !== 200) {
      // 403 while pending authorization is expected; the certificate comes once the node is authorized.
      this.opts.logger.debug({ status: res.status, detail: text.slice(0, 300) }, 'client certificate not issued now: will retry');
      return;
    }
    let certificate: unknown;
    try {
      certificate = (JSON.parse(text) as { certificate?: unknown }).certificate;
    } catch {
      certificate = undefined;
    }
    if (typeof certificate === 'string') await this.acceptCertificate(certificate);
  }
}

/** The plane's reason when it refused our client certificate (a 401 with its own code), else undefined. */
function certRefusal(status: number, text: string): string | undefined {
  if (status !== 401) return undefined;
  try {
    const body = JSON.parse(text) as { code?: unknown; error?: unknown };
    return body.code === 'WHISTLE_CLIENT_CERT_REFUSED' ? String(body.error) : undefined;
  } catch {
    return undefined;
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
}
