// The CLI talks to a running Whistle over its HTTP API (the embedded store lives inside that
// process). Server and token come from flags, then WHISTLE_SERVER / WHISTLE_TOKEN, then the
// embedded defaults' files under ./data.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ApiOptions {
  server?: string;
  token?: string;
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

  constructor(opts: ApiOptions = {}) {
    this.server = (opts.server ?? process.env.WHISTLE_SERVER ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
    this.token = opts.token ?? process.env.WHISTLE_TOKEN ?? readLocalToken(opts.dataDir ?? process.env.WHISTLE_DATA_DIR ?? './data');
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.server}${path}`, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new ApiError(0, `cannot reach Whistle at ${this.server} (${(err as Error).cause ? String((err as { cause: Error }).cause.message) : (err as Error).message}); is it running? (npm start)`);
    }
    const text = await res.text();
    const parsed = text ? (JSON.parse(text) as unknown) : {};
    if (!res.ok) throw new ApiError(res.status, `${res.status}: ${(parsed as { error?: string }).error ?? text}`);
    return parsed as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
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
    .option('--json', 'print JSON instead of a table');
}
