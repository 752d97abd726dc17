// Agents talk TLS to the real management plane (fastify over HTTPS, ingest, writer, chDB): the
// plane's certificate comes from its fleet CA, a new agent trusts it only when the CA's hash is the
// one it was given (kubeadm's discovery-token-ca-cert-hash) and pins it, nodes get client
// certificates at registration, and a node certificate that is expired or from another CA is
// refused with the reason. Plain HTTP off loopback is refused by `whistle config check`.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { X509Certificate } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSchema } from '../../agent/config.ts';
import { point, type Collector, type Point } from '../../agent/collectors/types.ts';
import { httpsFetch } from '../../agent/https-fetch.ts';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { TokenStore } from '../../agent/token-store.ts';
import { CertificateAuthority } from '../../bootstrap/pki/ca.ts';
import { caCertHash } from '../../bootstrap/pki/ca-hash.ts';
import { ensureKeyAndCsr } from '../../bootstrap/pki/csr.ts';
import { importPrivateKeyPem, serial, SIGN_ALG, x509 } from '../../bootstrap/pki/x509.ts';
import type { Logger } from '../../core/log.ts';
import { freePort } from '../harness/ports.ts';
import { eventually, JOIN_TOKEN, OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const run = promisify(execFile);
const DAY = 24 * 3600_000;
const dir = mkdtempSync(join(tmpdir(), 'whistle-tls-'));
const agents: NodeAgent[] = [];
let port = 0;
let plane: TestWhistle | undefined;
let impostor: TestWhistle | undefined;

/** Emits 1, 2, 3... up to `to`, which the test moves to let the agent collect more. */
class SeqCollector implements Collector {
  readonly name = 'seq';
  n = 0;
  constructor(public to: number) {}
  async collect(): Promise<Point[]> {
    return this.n >= this.to ? [] : [point('tls_seq', ++this.n)];
  }
}

function logLines(): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  return { lines, logger: pino({ level: 'debug' }, { write: (l: string) => void lines.push(l) }) };
}

const fleetCaPem = (t: TestWhistle) => readFileSync(join(t.dir, 'fleet-ca', 'ca.crt'), 'utf8');

/** An HTTPS client that trusts `t`'s fleet CA, optionally presenting a client certificate. */
function client(t: TestWhistle, creds?: { cert: string; key: string }) {
  const agent = new Agent({ ca: fleetCaPem(t), ...creds });
  const send = httpsFetch(() => agent);
  const call = (method: string, path: string, body?: unknown, token?: string) =>
    send(`${t.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  return {
    call,
    operator: (method: string, path: string, body?: unknown) => call(method, path, body, OPERATOR_TOKEN),
    close: () => agent.destroy(),
  };
}

async function startPlane(name: string): Promise<TestWhistle> {
  return startTestWhistle({ server: { port, tls: { enabled: true } } }, { dir: join(dir, name) });
}

async function nodes(t: TestWhistle): Promise<{ node: string; status: string }[]> {
  const c = client(t);
  try {
    const res = await c.operator('GET', '/v1/nodes?cluster=c1');
    return ((await res.json()) as { nodes: { node: string; status: string }[] }).nodes;
  } finally {
    c.close();
  }
}

async function stored(t: TestWhistle, node: string, name: string): Promise<number[]> {
  const c = client(t);
  try {
    const res = await c.operator('GET', `/v1/samples?cluster=c1&node=${node}&name=${name}&limit=10000`);
    if (res.status !== 200) return [];
    return ((await res.json()) as { samples: { value: number }[] }).samples.map((s) => s.value).sort((a, b) => a - b);
  } finally {
    c.close();
  }
}

function startAgent(node: string, hash: string, collector: Collector, logger: Logger): NodeAgent {
  const cfg = agentSchema.parse({
    server: `https://127.0.0.1:${port}`,
    caCertHash: hash,
    cluster: 'c1',
    node,
    joinToken: JOIN_TOKEN,
    intervalMs: 100,
    stateDir: join(dir, `agent-${node}`),
    retryInitialMs: 50,
    retryMaxMs: 400,
  });
  const agent = createNodeAgent(cfg, { logger, collectors: [collector], selfMetrics: false });
  agents.push(agent);
  return agent;
}

/** A client certificate for `node` of c1 from the CA in `caDir`, expired yesterday. */
async function expiredCertificate(caDir: string, csrPem: string, node: string): Promise<string> {
  const caCert = new x509.X509Certificate(readFileSync(join(caDir, 'ca.crt'), 'utf8'));
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${node}, OU=c1, O=Whistle`,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 400 * DAY),
    notAfter: new Date(Date.now() - DAY),
    signingAlgorithm: SIGN_ALG,
    publicKey: csr.publicKey,
    signingKey: await importPrivateKeyPem(readFileSync(join(caDir, 'ca.key'), 'utf8')),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return cert.toString('pem');
}

const telemetry = (node: string, value: number) => ({ cluster: 'c1', node, samples: [{ name: 'tls_direct', value, ts: Date.now(), labels: {} }] });

beforeAll(async () => {
  port = await freePort();
  plane = await startPlane('plane');
});

afterAll(async () => {
  for (const a of agents) await a.stop();
  await impostor?.stop({ keepDir: true });
  await plane?.stop({ keepDir: true });
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('agents over TLS', () => {
  it("pins the CA by kubeadm's hash: sha256 of the CA's SubjectPublicKeyInfo, served by GET /v1/ca", async () => {
    expect(plane!.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const caPath = join(plane!.dir, 'fleet-ca', 'ca.crt');
    expect(statSync(join(plane!.dir, 'fleet-ca', 'ca.key')).mode & 0o777).toBe(0o600);
    const { stdout } = await run('sh', ['-c', `openssl x509 -in '${caPath}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -hex`]);
    const hash = caCertHash(fleetCaPem(plane!));
    expect(hash).toBe(`sha256:${stdout.trim().split(/\s+/).pop()}`);
    const res = await fetch(`${plane!.url}/v1/ca`).catch((err: Error) => err);
    expect(res, 'the system trust store does not know the fleet CA').toBeInstanceOf(Error);
    const c = client(plane!);
    const body = (await (await c.call('GET', '/v1/ca')).json()) as { caCert: string; caCertHash: string };
    c.close();
    expect(body).toEqual({ caCert: fleetCaPem(plane!), caCertHash: hash });
  });

  const seq = new SeqCollector(10);
  const right = logLines();

  it('an agent with the right hash registers, gets a client certificate, and its telemetry is stored over HTTPS', async () => {
    const agent = startAgent('tls-node', caCertHash(fleetCaPem(plane!)), seq, right.logger);
    await agent.start();
    await eventually(async () => (await nodes(plane!)).find((n) => n.node === 'tls-node' && n.status === 'pending'), 'tls-node registered as pending');
    const c = client(plane!);
    expect((await c.operator('POST', '/v1/nodes/c1/tls-node/authorize')).status).toBe(200);
    c.close();
    await eventually(async () => (await stored(plane!, 'tls-node', 'tls_seq')).length >= 10, 'ten samples stored');
    expect(await stored(plane!, 'tls-node', 'tls_seq')).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));

    const state = join(dir, 'agent-tls-node');
    expect(readFileSync(join(state, 'plane-ca.crt'), 'utf8')).toBe(fleetCaPem(plane!));
    const nodeCert = new X509Certificate(readFileSync(join(state, 'tls', 'node.crt'), 'utf8'));
    expect(nodeCert.subject.split('\n')).toEqual(expect.arrayContaining(['CN=tls-node', 'OU=c1']));
    expect(nodeCert.verify(new X509Certificate(fleetCaPem(plane!)).publicKey)).toBe(true);
    expect(statSync(join(state, 'tls', 'node.key')).mode & 0o777).toBe(0o600);
  });

  it('an agent given another CA hash refuses the plane at first contact and sends it nothing', async () => {
    const other = await CertificateAuthority.ensure(join(dir, 'other-ca'), 'some other CA');
    const misled = logLines();
    const agent = startAgent('misled', caCertHash(other.certPem), new SeqCollector(5), misled.logger);
    await agent.start();
    await eventually(async () => misled.lines.find((l) => l.includes('refusing to send it anything')), 'the agent refusing the plane');
    await eventually(async () => agent.queue!.samples === 5, 'all five collections kept on disk');
    const refusal = JSON.parse(misled.lines.find((l) => l.includes('refusing to send it anything'))!) as { level: number; msg: string };
    expect(refusal.level).toBe(50); // error
    expect(refusal.msg).toContain(`presents CA ${caCertHash(fleetCaPem(plane!))}, not agent.caCertHash ${caCertHash(other.certPem)}`);
    expect((await nodes(plane!)).map((n) => n.node)).not.toContain('misled');
    expect(await stored(plane!, 'misled', 'tls_seq')).toEqual([]);
    expect(existsSync(join(dir, 'agent-misled', 'plane-ca.crt'))).toBe(false);
    expect(existsSync(join(dir, 'agent-misled', 'node-token.json'))).toBe(false);
    expect(agent.queue!.samples).toBe(5);
    await agent.stop();
  });

  it('an impostor plane at the pinned address (another CA) gets nothing; the real one gets the backlog when it is back', async () => {
    await plane!.stop({ keepDir: true });
    plane = undefined;
    impostor = await startPlane('impostor');
    expect(caCertHash(fleetCaPem(impostor))).not.toBe(caCertHash(readFileSync(join(dir, 'agent-tls-node', 'plane-ca.crt'), 'utf8')));
    const from = right.lines.length;
    seq.to = 20;
    await eventually(async () => right.lines.slice(from).find((l) => l.includes('does not verify against the pinned CA')), 'the agent refusing the impostor');
    await eventually(async () => seq.n >= 20, 'collections while the impostor answers');
    expect(await nodes(impostor)).toEqual([]);
    expect(await stored(impostor, 'tls-node', 'tls_seq')).toEqual([]);
    await impostor.stop({ keepDir: true });
    impostor = undefined;

    plane = await startPlane('plane');
    await eventually(async () => (await stored(plane!, 'tls-node', 'tls_seq')).length >= 20, 'the backlog stored by the real plane');
    expect(await stored(plane!, 'tls-node', 'tls_seq')).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('an expired node certificate and one from another CA are refused with the reason; a valid one and none are accepted', async () => {
    const c = client(plane!);
    const reg = await c.call('POST', '/v1/register', { cluster: 'c1', node: 'direct', joinToken: JOIN_TOKEN });
    expect(reg.status).toBe(202);
    const { token } = (await reg.json()) as { token: string };
    expect((await c.operator('POST', '/v1/nodes/c1/direct/authorize')).status).toBe(200);
    const keyDir = join(dir, 'direct-key');
    const { csrPem } = await ensureKeyAndCsr(keyDir, 'direct');
    const key = readFileSync(join(keyDir, 'node.key'), 'utf8');
    const issued = await c.call('POST', '/v1/agent/certificate', { csr: csrPem }, token);
    expect(issued.status).toBe(200);
    const { certificate } = (await issued.json()) as { certificate: string };
    c.close();

    const expired = await expiredCertificate(join(plane!.dir, 'fleet-ca'), csrPem, 'direct');
    const other = await CertificateAuthority.ensure(join(dir, 'other-ca'), 'some other CA');
    const foreign = await other.sign(csrPem, { commonName: 'direct', unit: 'c1', role: 'client' });
    const attempt = async (cert: string | undefined, path: string, body: unknown, bearer?: string) => {
      const k = client(plane!, cert ? { cert, key } : undefined);
      try {
        const res = await k.call('POST', path, body, bearer);
        return { status: res.status, body: (await res.json()) as { code?: string; error?: string } };
      } finally {
        k.close();
      }
    };

    const old = await attempt(expired, '/v1/telemetry', telemetry('direct', 1), token);
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('WHISTLE_CLIENT_CERT_REFUSED');
    expect(old.body.error).toMatch(/^client certificate CN=direct, OU=c1 \(serial [0-9A-F]+\) expired on .+ GMT: get a new one/);

    const wrongCa = await attempt(foreign, '/v1/telemetry', telemetry('direct', 2), token);
    expect(wrongCa.status).toBe(401);
    expect(wrongCa.body.code).toBe('WHISTLE_CLIENT_CERT_REFUSED');
    expect(wrongCa.body.error).toMatch(/^client certificate CN=direct, OU=c1 .* is not issued by this management plane's fleet CA/);

    // Refused on every route, registration included; without a certificate the join token still works.
    const register = { cluster: 'c1', node: 'direct-2', joinToken: JOIN_TOKEN };
    expect((await attempt(foreign, '/v1/register', register)).body.code).toBe('WHISTLE_CLIENT_CERT_REFUSED');
    const second = await attempt(undefined, '/v1/register', register);
    expect(second.status).toBe(202);
    const secondToken = (second.body as { token?: string }).token!;
    const auth = client(plane!);
    expect((await auth.operator('POST', '/v1/nodes/c1/direct-2/authorize')).status).toBe(200);
    auth.close();
    // A valid certificate with another node's token: both credentials must name the same node.
    const mixed = await attempt(certificate, '/v1/telemetry', telemetry('direct-2', 9), secondToken);
    expect(mixed.status).toBe(403);
    expect(mixed.body.error).toBe('client certificate is for c1/direct, the token for c1/direct-2');

    expect(await attempt(certificate, '/v1/telemetry', telemetry('direct', 3), token)).toMatchObject({ status: 202 });
    expect(await attempt(undefined, '/v1/telemetry', telemetry('direct', 4), token)).toMatchObject({ status: 202 });
    await eventually(async () => (await stored(plane!, 'direct', 'tls_direct')).length >= 2, 'the accepted batches stored');
    expect(await stored(plane!, 'direct', 'tls_direct')).toEqual([3, 4]);
  });

  it('an agent whose stored certificate is refused drops it, gets a new one with its token, and keeps its data', async () => {
    const state = join(dir, 'agent-reissued');
    const c = client(plane!);
    const reg = await c.call('POST', '/v1/register', { cluster: 'c1', node: 'reissued', joinToken: JOIN_TOKEN });
    const { token } = (await reg.json()) as { token: string };
    expect((await c.operator('POST', '/v1/nodes/c1/reissued/authorize')).status).toBe(200);
    c.close();
    // As if the node held a certificate from a CA this plane never had: its own name, its own key.
    const { csrPem } = await ensureKeyAndCsr(join(state, 'tls'), 'reissued');
    await new TokenStore(state).save({ cluster: 'c1', node: 'reissued' }, token);
    const other = await CertificateAuthority.ensure(join(dir, 'other-ca'), 'some other CA');
    writeFileSync(join(state, 'tls', 'node.crt'), await other.sign(csrPem, { commonName: 'reissued', unit: 'c1', role: 'client' }));

    const log = logLines();
    const agent = startAgent('reissued', caCertHash(fleetCaPem(plane!)), new SeqCollector(5), log.logger);
    await agent.start();
    await eventually(async () => (await stored(plane!, 'reissued', 'tls_seq')).length >= 5, 'the agent delivering after a new certificate');
    expect(await stored(plane!, 'reissued', 'tls_seq')).toEqual([1, 2, 3, 4, 5]);
    const refused = log.lines.map((l) => JSON.parse(l) as { msg: string; reason?: string }).find((l) => l.msg.includes('refused our client certificate'));
    expect(refused?.reason).toMatch(/is not issued by this management plane's fleet CA/);
    const renewed = new X509Certificate(readFileSync(join(state, 'tls', 'node.crt'), 'utf8'));
    expect(renewed.verify(new X509Certificate(fleetCaPem(plane!)).publicKey)).toBe(true);
    const listed = await nodes(plane!);
    expect(listed.find((n) => n.node === 'reissued')?.status, 'the token was kept: no new registration, no new authorization').toBe('authorized');
  });
});

describe('whistle config check', () => {
  const bin = resolve('bin/whistle.js');
  const check = async (name: string, config: string) => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, config);
    try {
      const { stdout } = await run(process.execPath, [bin, 'config', 'check', file], { cwd: dir });
      return { code: 0, out: stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, out: e.stdout + e.stderr };
    }
  };

  // Each run of the CLI costs seconds (it loads the whole program), and a check reports every
  // problem of a file at once: one file per outcome.
  it('refuses plain HTTP on a non-loopback host naming server.tls, and an agent that would send in clear or unpinned', { timeout: 180_000 }, async () => {
    const plain = await check('plain', 'server: { host: 0.0.0.0, port: 8080 }\nagent: { server: "http://whistle.example:8080" }\n');
    expect(plain.code).toBe(2);
    expect(plain.out).toContain('server.tls: plain HTTP is served only on loopback, and server.host is "0.0.0.0": set server.tls.enabled: true');
    expect(plain.out).toContain('agent.server: plain HTTP is only for a management plane on loopback, not whistle.example:8080');

    const half = await check('half', 'server: { host: 0.0.0.0, tls: { enabled: true, certFile: /etc/whistle/tls.crt } }\nagent: { server: "https://whistle.example:8443" }\n');
    expect(half.code).toBe(2);
    expect(half.out).toContain('server.tls.keyFile: needed with server.tls.certFile');
    expect(half.out).toContain('server.tls.caFile: needed with server.tls.certFile');
    expect(half.out).toContain('agent.caCertHash: needed with an https server');

    const tls = await check(
      'tls',
      `server: { host: 0.0.0.0, port: 8443, tls: { enabled: true, sans: [whistle.example, 10.0.0.5] } }\nagent: { server: "https://whistle.example:8443", caCertHash: "sha256:${'AB'.repeat(32)}" }\n`,
    );
    expect(tls, tls.out).toMatchObject({ code: 0 });
  });

  it('whistle join-command prints the agent section with the hash of the CA in the data directory', { timeout: 120_000 }, async () => {
    const data = join(dir, 'join-data');
    const file = join(dir, 'join.yaml');
    writeFileSync(file, `dataDir: ${data}\nserver: { host: 0.0.0.0, port: 8443, publicUrl: "https://whistle.example:8443", tls: { enabled: true } }\nclusters: [{ name: prod, joinToken: "${JOIN_TOKEN}" }]\n`);
    const { stdout } = await run(process.execPath, [bin, 'join-command', '-c', file, '--cluster', 'prod'], { cwd: dir });
    const hash = caCertHash(readFileSync(join(data, 'fleet-ca', 'ca.crt'), 'utf8'));
    expect(stdout).toContain(`agent:\n  server: https://whistle.example:8443\n  cluster: prod\n  joinToken: ${JOIN_TOKEN}\n  caCertHash: ${hash}\n`);
  });
});
