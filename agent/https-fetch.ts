// fetch over node:https with the agent's own trust: the CA it pinned (never the system's store) and,
// once it holds one, its client certificate. Node 20's global fetch takes no CA or client
// certificate without the undici package, so requests go through https.request; answers are
// standard Responses, so the sender and the task poller do not know which transport they use.
import { Agent, request } from 'node:https';

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

function bodyOf(init: RequestInit): string | undefined {
  if (init.body === undefined || init.body === null) return undefined;
  if (typeof init.body === 'string') return init.body;
  throw new TypeError('httpsFetch sends string bodies only');
}

function headersOf(raw: NodeJS.Dict<string | string[]>): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(raw)) for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) h.append(k, one);
  return h;
}

/** A fetch whose connections come from `agent()` (read at each request: a renewed certificate takes effect at once). */
export function httpsFetch(agent: () => Agent): typeof fetch {
  return ((input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const body = bodyOf(init);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: init.method ?? 'GET', headers, agent: agent(), signal: init.signal ?? undefined }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('the management plane closed the connection mid-answer')));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve(new Response(NULL_BODY_STATUS.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: headersOf(res.headers) }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }) as typeof fetch;
}
