// Starts a real Whistle in-process for a test: chDB in a temp directory (or a given store), an
// ephemeral port, one cluster, one operator token. Helpers register and authorize nodes through
// the real HTTP API, the way an agent and an operator would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseConfig } from '../../app/config.ts';
import type { WhistleConfig } from '../../app/config.ts';
import { Whistle, type WhistleOptions } from '../../app/whistle.ts';

export const JOIN_TOKEN = 'join-token-for-tests-0123456789';
export const OPERATOR_TOKEN = 'operator-token-for-tests-0123456789';

export interface TestWhistle {
  whistle: Whistle;
  url: string;
  config: WhistleConfig;
  dir: string;
  /** Registers a node with the join token, authorizes it as the operator, returns its node token. */
  addNode(node: string, cluster?: string): Promise<string>;
  operator(method: string, path: string, body?: unknown): Promise<Response>;
  post(path: string, body: unknown, token?: string): Promise<Response>;
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

export type ConfigOverrides = Record<string, unknown>;

export function testConfig(dir: string, overrides: ConfigOverrides = {}): WhistleConfig {
  const base: Record<string, Record<string, unknown> | unknown[] | string> = {
    dataDir: dir,
    server: { port: 0, operatorTokens: [{ name: 'test-operator', token: OPERATOR_TOKEN }] },
    store: { kind: 'chdb', path: join(dir, 'chdb') },
    writer: { spoolDir: join(dir, 'spool'), flushIntervalMs: 50 },
    clusters: [{ name: 'c1', joinToken: JOIN_TOKEN }],
    agent: { enabled: false, stateDir: join(dir, 'agent') },
  };
  for (const [k, v] of Object.entries(overrides)) {
    const cur = base[k];
    base[k] = cur && typeof cur === 'object' && !Array.isArray(cur) && v && typeof v === 'object' && !Array.isArray(v) ? { ...cur, ...(v as object) } : (v as never);
  }
  return parseConfig(base);
}

export async function startTestWhistle(overrides: ConfigOverrides = {}, opts: WhistleOptions & { dir?: string } = {}): Promise<TestWhistle> {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'whistle-test-'));
  const config = testConfig(dir, overrides);
  const whistle = await Whistle.create(config, { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), ...opts });
  const url = await whistle.start();
  const post = (path: string, body: unknown, token?: string) =>
    fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const operator = (method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  return {
    whistle,
    url,
    config,
    dir,
    post,
    operator,
    async addNode(node, cluster = 'c1') {
      const reg = await post('/v1/register', { cluster, node, joinToken: JOIN_TOKEN });
      if (reg.status !== 202) throw new Error(`register failed: ${reg.status} ${await reg.text()}`);
      const { token } = (await reg.json()) as { token: string };
      const auth = await operator('POST', `/v1/nodes/${cluster}/${node}/authorize`);
      if (auth.status !== 200) throw new Error(`authorize failed: ${auth.status} ${await auth.text()}`);
      return token;
    },
    async stop({ keepDir = false } = {}) {
      await whistle.stop();
      if (!keepDir && !opts.dir) rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
}

/** Polls `fn` until it returns a truthy value or the time runs out (then throws with `what`). */
export async function eventually<T>(fn: () => Promise<T>, what: string, timeoutMs = 30_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
