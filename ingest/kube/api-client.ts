// A thin HTTP client for one Kubernetes API server. @kubernetes/client-node's KubeConfig supplies
// the server, TLS material and credentials (tokens, client certs, exec plugins); the requests
// themselves go through node:https so lists and watches stay raw JSON (no typed-model conversion
// of 30,000 pods) and the proxy can stream answers through unchanged.
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason = '',
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** The API's answer to a failed request (metav1.Status), as far as callers read it. */
export interface KubeStatus {
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

/** A JSON answer with its status code: the object on 2xx, the API's Status otherwise. */
export type JsonAnswer<T> = { ok: true; status: number; value: T } | { ok: false; status: number; error: KubeStatus };

function parseStatus(text: string): KubeStatus {
  try {
    const st = JSON.parse(text) as KubeStatus;
    return typeof st === 'object' && st !== null ? st : {};
  } catch {
    return {};
  }
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class KubeApi {
  private readonly agent: http.Agent;
  private readonly base: URL;

  private constructor(
    readonly cluster: string,
    private readonly kc: KubeConfig,
    server: string,
    tls: https.AgentOptions,
  ) {
    this.base = new URL(server);
    const opts = { keepAlive: true, maxSockets: 64, ...tls };
    this.agent = this.base.protocol === 'https:' ? new https.Agent(opts) : new http.Agent(opts);
  }

  /** Builds a client for `context` of `kc` (the current context when omitted). */
  static async fromKubeConfig(cluster: string, kc: KubeConfig, context?: string): Promise<KubeApi> {
    const own = new KubeConfig();
    own.loadFromString(kc.exportConfig());
    if (context) own.setCurrentContext(context);
    const c = own.getCurrentCluster();
    if (!c) throw new Error(`cluster ${cluster}: kubeconfig context ${context ?? own.getCurrentContext()} names no cluster`);
    const opts: https.RequestOptions = {};
    await own.applyToHTTPSOptions(opts);
    const tls: https.AgentOptions = {};
    for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const) {
      if (opts[k] !== undefined) (tls as Record<string, unknown>)[k] = opts[k];
    }
    return new KubeApi(cluster, own, c.server, tls);
  }

  get server(): string {
    return this.base.toString().replace(/\/$/, '');
  }

  private cachedAuth: { headers: Record<string, string>; until: number } | null = null;

  /** Credentials, refreshed every 30 s: exec plugins and token files may rotate them. */
  private async authHeaders(): Promise<Record<string, string>> {
    if (this.cachedAuth && this.cachedAuth.until > Date.now()) return this.cachedAuth.headers;
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) out[k] = String(v);
    const user = this.kc.getCurrentUser();
    if (user?.username && !out.Authorization) {
      out.Authorization = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
    }
    this.cachedAuth = { headers: out, until: Date.now() + 30_000 };
    return out;
  }

  /** Opens a request and hands back the response stream (caller consumes or destroys it). */
  async open(
    method: string,
    path: string,
    opts: { body?: string | Buffer; contentType?: string; accept?: string; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<http.IncomingMessage> {
    const url = new URL(path, this.base);
    const headers: Record<string, string> = { ...(await this.authHeaders()), Accept: opts.accept ?? 'application/json' };
    if (opts.body !== undefined) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(opts.body));
    }
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent: this.agent, signal: opts.signal }, resolve);
      req.on('error', reject);
      // Connect/headers timeout only: a watch answers its headers at once and then streams.
      if (opts.timeoutMs) {
        req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${opts.timeoutMs} ms`)));
        req.on('response', () => req.setTimeout(0));
      }
      req.end(opts.body);
    });
  }

  async request(
    method: string,
    path: string,
    opts: { body?: string | Buffer; contentType?: string; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<RawResponse> {
    const res = await this.open(method, path, { timeoutMs: 60_000, ...opts });
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
  }

  /** JSON request; a non-2xx answer throws KubeApiError with the API's Status message. */
  async json<T>(method: string, path: string, body?: unknown, contentType?: string, signal?: AbortSignal): Promise<T> {
    const res = await this.request(method, path, {
      body: body === undefined ? undefined : JSON.stringify(body),
      contentType,
      signal,
    });
    const text = res.body.toString('utf8');
    if (res.status < 200 || res.status >= 300) {
      const st = parseStatus(text);
      throw new KubeApiError(res.status, `${method} ${path}: ${res.status} ${st.message ?? text.slice(0, 500)}`, st.reason ?? '');
    }
    return JSON.parse(text) as T;
  }

  /**
   * JSON request that answers the status code and the API's Status instead of throwing on a non-2xx
   * answer: for callers that act on 404, 409 or 429 themselves (evictions, conditional patches).
   * Connection failures still throw.
   */
  async send<T>(method: string, path: string, body?: unknown, opts: { contentType?: string; signal?: AbortSignal } = {}): Promise<JsonAnswer<T>> {
    const res = await this.request(method, path, {
      body: body === undefined ? undefined : JSON.stringify(body),
      contentType: opts.contentType,
      signal: opts.signal,
    });
    const text = res.body.toString('utf8');
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, value: (text ? JSON.parse(text) : undefined) as T };
    const error = parseStatus(text);
    if (error.message === undefined) error.message = text.slice(0, 500);
    return { ok: false, status: res.status, error };
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.json<T>('GET', path, undefined, undefined, signal);
  }

  close(): void {
    this.agent.destroy();
  }
}
