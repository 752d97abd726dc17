// Sends a fuzzed request exactly as built: the path unnormalized (fetch would resolve "..") and
// the body's bytes as they are. Requests can come from several loopback addresses, as from many
// senders, so per-address limits apply to each the way they would in a fleet.
import http from 'node:http';
import { bodyOf, pathOf, type FuzzRequest } from './request.ts';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  ms: number;
}

/** The request never got an answer: refused connection, reset before any status, timeout. */
export class NoAnswer extends Error {}

export class FuzzClient {
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  constructor(
    private readonly port: number,
    opts: { maxSockets: number; timeoutMs?: number },
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets });
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  send(req: FuzzRequest, localAddress?: string): Promise<Answer> {
    const body = bodyOf(req);
    const headers: http.OutgoingHttpHeaders = { ...req.headers };
    if (body) headers['content-length'] = body.length;
    const started = performance.now();
    return new Promise((resolve, reject) => {
      let answered = false;
      let r: http.ClientRequest;
      try {
        r = http.request({ host: '127.0.0.1', port: this.port, path: pathOf(req), method: req.method, headers, agent: this.agent, localAddress, timeout: this.timeoutMs }, (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
          res.on('error', (err) => reject(new NoAnswer(`response cut off: ${err.message}`)));
        });
      } catch (err) {
        // The client library refused to build it: a generator bug, not a server one.
        reject(new Error(`unsendable request (${(err as Error).message}): ${req.method} ${pathOf(req).slice(0, 80)}`));
        return;
      }
      r.on('timeout', () => r.destroy(new NoAnswer(`no answer within ${this.timeoutMs} ms`)));
      r.on('error', (err) => {
        // A server may answer (413) and close before reading all of a large body; the answer counts.
        if (!answered) reject(err instanceof NoAnswer ? err : new NoAnswer(err.message));
      });
      r.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
