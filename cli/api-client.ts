// The CLI talks to a running Whistle over its HTTP API (the embedded store lives inside that
// process). Server, token and the CA to trust come from flags, then WHISTLE_SERVER / WHISTLE_TOKEN /
// WHISTLE_CA, then the embedded defaults' files under ./data.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpRequest } from './http-request.ts';

export interface ApiOptions {
  server?: string;
  token?: string;
  /** A PEM file with the CA that issued the plane's HTTPS certificate. */
  ca?: string;
  dataDir?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ApiClient {
  readonly server: string;
  private readonly token: string | undefined;
  private readonly ca: string | undefined;

  constructor(opts: ApiOptions = {}) {
    const dataDir = opts.dataDir ?? process.env.WHISTLE_DATA_DIR ?? './data';
    this.server = (opts.server ?? process.env.WHISTLE_SERVER ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
    this.token = opts.token ?? process.env.WHISTLE_TOKEN ?? readLocalToken(dataDir);
    this.ca = this.server.startsWith('https:') ? readCa(opts.ca ?? process.env.WHISTLE_CA, dataDir) : undefined;
  }

  /** `timeoutMs`: changes that drive nodes (an attach forms etcd) take longer than the default 30 s. */
  async request<T>(method: string, path: string, body?: unknown, timeoutMs = 30_000): Promise<T> {
    let res: { status: number; text: string };
    try {
      res = await httpRequest(`${this.server}${path}`, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        ca: this.ca,
        timeoutMs,
      });
    } catch (err) {
      throw new ApiError(0, `cannot reach Whistle at ${this.server} (${reachFailure(err as NodeJS.ErrnoException)}); is it running? (npm start)`);
    }
    let parsed: unknown = {};
    try {
      if (res.text) parsed = JSON.parse(res.text) as unknown;
    } catch {
      // Something other than Whistle answered (a proxy's error page, a wrong port).
      throw new ApiError(res.status, `${this.server} answered ${res.status} with something that is not Whistle's JSON: ${res.text.slice(0, 120)}`);
    }
    if (res.status < 200 || res.status >= 300) throw new ApiError(res.status, `${res.status}: ${(parsed as { error?: string }).error ?? res.text}`);
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  put<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}

/** The CA to trust for https: the given file, else the embedded plane's fleet CA under ./data. */
function readCa(file: string | undefined, dataDir: string): string | undefined {
  if (file) {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ApiError(0, `--ca ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  const local = join(dataDir, 'fleet-ca', 'ca.crt');
  return existsSync(local) ? readFileSync(local, 'utf8') : undefined;
}

function reachFailure(err: NodeJS.ErrnoException): string {
  if (err.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || err.code === 'SELF_SIGNED_CERT_IN_CHAIN' || err.code === 'DEPTH_ZERO_SELF_SIGNED_CERT') {
    return `its certificate is not issued by a CA this CLI trusts: give the plane's CA with --ca FILE or WHISTLE_CA (${err.code})`;
  }
  return err.code ? `${err.code}: ${err.message}` : err.message;
}

function readLocalToken(dataDir: string): string | undefined {
  try {
    return readFileSync(join(dataDir, 'operator-token'), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Common flags for commands that call the API. */
export function apiFlags<T extends { option(flags: string, description: string): T }>(cmd: T): T {
  return cmd
    .option('--server <url>', 'Whistle API URL (env WHISTLE_SERVER, default http://127.0.0.1:8080)')
    .option('--token <token>', 'operator token (env WHISTLE_TOKEN, default: ./data/operator-token)')
    .option('--ca <file>', "CA certificate (PEM) to trust for an https server (env WHISTLE_CA, default: ./data/fleet-ca/ca.crt)")
    .option('--json', 'print JSON instead of a table');
}
