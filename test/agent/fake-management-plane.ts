// A small real HTTP server that plays the management plane's agent-facing API exactly as the ingest
// contract describes it (register, telemetry, 401/403/429/400/413), with switches a test can flip:
// pending authorization, forgotten tokens, throttling, poison batches. It records what it accepted,
// in order, so tests can check "every sample exactly once, in order".
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WireSample {
  name: string;
  value: number;
  ts: number;
  labels: Record<string, string>;
}

export interface RequestRecord {
  path: string;
  status: number;
  at: number;
  samples: number;
}

export const JOIN_TOKEN = 'join-token-for-tests-0123456789';

export class FakeManagementPlane {
  private server: Server | undefined;
  port = 0;
  /** New nodes start authorized unless this is false (then they are pending until `authorize`). */
  autoAuthorize = true;
  readonly tokens = new Map<string, { cluster: string; node: string }>();
  readonly authorized = new Set<string>();
  readonly accepted: WireSample[] = [];
  readonly requests: RequestRecord[] = [];
  registrations = 0;
  /** Answer the next N telemetry requests with 429 and this Retry-After. */
  throttle = { count: 0, retryAfter: '1' };
  /** A batch for which this returns true is answered 400 (and nothing of it is kept). */
  reject: (samples: WireSample[]) => boolean = () => false;
  maxSamplesPerBatch = 10_000;

  /** Listens on 127.0.0.1; pass the port of an earlier run to come back at the same address. */
  async start(port = this.port): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        res.statusCode = 500;
        res.end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  authorize(node: string): void {
    this.authorized.add(node);
  }

  /** Simulates a management plane that lost its node table: every token becomes unknown. */
  forgetTokens(): void {
    this.tokens.clear();
  }

  telemetryRequests(status?: number): RequestRecord[] {
    return this.requests.filter((r) => r.path === '/v1/telemetry' && (status === undefined || r.status === status));
  }

  valuesOf(name: string): number[] {
    return this.accepted.filter((s) => s.name === name).map((s) => s.value);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}, samples = 0) => {
      this.requests.push({ path: req.url ?? '', status, at: Date.now(), samples });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return answer(400, { error: 'malformed JSON' });
    }
    if (req.method === 'POST' && req.url === '/v1/register') {
      this.registrations++;
      if (body.joinToken !== JOIN_TOKEN) return answer(401, { error: 'bad join token' });
      if (typeof body.cluster !== 'string' || typeof body.node !== 'string' || typeof body.agentVersion !== 'string' || typeof body.address !== 'string') {
        return answer(400, { error: 'bad registration' });
      }
      const token = randomBytes(16).toString('hex');
      this.tokens.set(token, { cluster: body.cluster, node: body.node });
      if (this.autoAuthorize) this.authorized.add(body.node);
      return answer(202, { status: this.authorized.has(body.node) ? 'authorized' : 'pending', token });
    }
    if (req.method === 'POST' && req.url === '/v1/telemetry') {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const who = token ? this.tokens.get(token) : undefined;
      const samples = body.samples as WireSample[];
      if (!who) return answer(401, { error: 'unknown node token' });
      if (who.node !== body.node || who.cluster !== body.cluster) return answer(401, { error: 'token is for another node' });
      if (!this.authorized.has(who.node)) return answer(403, { error: 'node pending authorization' });
      if (this.throttle.count > 0) {
        this.throttle.count--;
        return answer(429, { error: 'overloaded' }, { 'retry-after': this.throttle.retryAfter });
      }
      if (!Array.isArray(samples)) return answer(400, { error: 'samples: expected an array' });
      if (samples.length > this.maxSamplesPerBatch) return answer(413, { error: 'too many samples' }, {}, samples.length);
      if (samples.some((s) => typeof s.value !== 'number' || typeof s.ts !== 'number' || typeof s.name !== 'string')) {
        return answer(400, { error: 'bad sample' }, {}, samples.length);
      }
      if (this.reject(samples)) return answer(400, { error: 'poison sample' }, {}, samples.length);
      this.accepted.push(...samples);
      return answer(202, { accepted: samples.length }, {}, samples.length);
    }
    return answer(404, { error: 'not found' });
  }
}

/** A port that nothing listens on right now (for "the management plane is down"). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Polls until `cond` holds; fails with `what` after `timeoutMs` (a bound, not a timing assertion). */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
