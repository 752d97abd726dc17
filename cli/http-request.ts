// One HTTP(S) request for the CLI. node:https rather than fetch, because fetch cannot be told which
// CA to trust for one request (only the whole process, through NODE_EXTRA_CA_CERTS).
import http from 'node:http';
import https from 'node:https';

export interface HttpRequestOptions {
  method: string;
  headers: Record<string, string>;
  body?: string;
  /** PEM of the CA to trust instead of the system's, for https. */
  ca?: string;
  timeoutMs: number;
}

export function httpRequest(url: string, opts: HttpRequestOptions): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  const headers = { ...opts.headers, ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) };
  return new Promise((resolve, reject) => {
    const req = lib.request(target, { method: opts.method, headers, ...(opts.ca ? { ca: opts.ca } : {}), timeout: opts.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${opts.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(opts.body);
  });
}
