// Probes against real local servers started here: HTTP, a TCP listener, a DNS server on UDP, and
// certificate files generated for the test.
// @peculiar/x509 (via tsyringe) needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSchema } from '../../agent/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { defaultCollectors } from '../../agent/collectors/index.ts';
import type { Point } from '../../agent/collectors/types.ts';
import { CertProbe } from '../../agent/probes/cert.ts';
import { DnsProbe, resolverProblem } from '../../agent/probes/dns.ts';
import { HttpProbe, redactUrl } from '../../agent/probes/http.ts';
import { TcpProbe } from '../../agent/probes/tcp.ts';
import { freePort } from './fake-management-plane.ts';
import { TinyDnsServer } from './dns-server.ts';

function value(points: Point[], name: string): number {
  const p = points.filter((x) => x.name === name);
  expect(p, name).toHaveLength(1);
  return p[0]!.value;
}

let http: Server;
let httpPort: number;
let tcp: TcpServer;
let tcpPort: number;
let dns: TinyDnsServer;
let dir: string;

beforeAll(async () => {
  http = createHttpServer((req, res) => {
    if (req.url === '/healthz') return res.end('ok');
    if (req.url === '/broken') {
      res.statusCode = 500;
      return res.end('boom');
    }
    if (req.url === '/hang') return; // never answers
    res.statusCode = 404;
    res.end();
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  httpPort = (http.address() as AddressInfo).port;
  tcp = createTcpServer((s) => s.end());
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  tcpPort = (tcp.address() as AddressInfo).port;
  dns = new TinyDnsServer({ 'kubernetes.default.svc.cluster.local': ['10.96.0.1'], 'two.example': ['192.0.2.1', '192.0.2.2'] });
  await dns.start();
  dir = await mkdtemp(join(tmpdir(), 'whistle-probes-'));
});

afterAll(async () => {
  http?.closeAllConnections();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  await new Promise<void>((r) => (tcp ? tcp.close(() => r()) : r()));
  await dns?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('HTTP probe', () => {
  const probe = (path: string, timeoutMs = 2000) => new HttpProbe({ name: 'kubelet', url: `http://127.0.0.1:${httpPort}${path}`, timeoutMs, insecure: false });

  it('a healthy endpoint is up with its status and a latency', async () => {
    const points = await probe('/healthz').collect();
    expect(value(points, 'probe_http_up')).toBe(1);
    expect(value(points, 'probe_http_status_code')).toBe(200);
    expect(value(points, 'probe_http_duration_seconds')).toBeGreaterThan(0);
    expect(points[0]!.labels).toEqual({ probe: 'kubelet', target: `http://127.0.0.1:${httpPort}/healthz` });
  });
  it('a 500 is down, with the status kept', async () => {
    const points = await probe('/broken').collect();
    expect(value(points, 'probe_http_up')).toBe(0);
    expect(value(points, 'probe_http_status_code')).toBe(500);
  });
  it('a refused connection and a timeout are down', async () => {
    const closed = await freePort();
    const refused = await new HttpProbe({ name: 'x', url: `http://127.0.0.1:${closed}/`, timeoutMs: 2000, insecure: false }).collect();
    expect(value(refused, 'probe_http_up')).toBe(0);
    expect(value(refused, 'probe_http_status_code')).toBe(0);
    const hung = await probe('/hang', 200).collect();
    expect(value(hung, 'probe_http_up')).toBe(0);
  });
  it('credentials in a probe URL never reach a label', () => {
    expect(redactUrl('https://user:secret@10.0.0.1:10250/healthz')).toBe('https://10.0.0.1:10250/healthz');
  });
});

describe('TCP probe', () => {
  it('an open port is up, a closed one is down', async () => {
    const open = await new TcpProbe({ name: 'api', host: '127.0.0.1', port: tcpPort, timeoutMs: 2000 }).collect();
    expect(value(open, 'probe_tcp_up')).toBe(1);
    expect(open[0]!.labels).toEqual({ probe: 'api', target: `127.0.0.1:${tcpPort}` });
    const closed = await new TcpProbe({ name: 'api', host: '127.0.0.1', port: await freePort(), timeoutMs: 2000 }).collect();
    expect(value(closed, 'probe_tcp_up')).toBe(0);
  });
});

describe('DNS probe against a real DNS server', () => {
  const probe = (query: string, resolver = `127.0.0.1:${dns.port}`) => new DnsProbe({ name: 'coredns', query, resolver, type: 'A', timeoutMs: 1000 });

  it('a name that resolves is up, with the number of answers', async () => {
    const before = dns.queries;
    const points = await probe('kubernetes.default.svc.cluster.local').collect();
    expect(value(points, 'probe_dns_up')).toBe(1);
    expect(value(points, 'probe_dns_answers')).toBe(1);
    expect(value(points, 'probe_dns_duration_seconds')).toBeGreaterThan(0);
    expect(dns.queries).toBeGreaterThan(before); // it really asked our server
    expect(points[0]!.labels).toEqual({ probe: 'coredns', query: 'kubernetes.default.svc.cluster.local', type: 'A', resolver: `127.0.0.1:${dns.port}` });
    expect(value(await probe('two.example').collect(), 'probe_dns_answers')).toBe(2);
  });
  it('NXDOMAIN and a silent resolver are down', async () => {
    const nx = await probe('missing.example').collect();
    expect(value(nx, 'probe_dns_up')).toBe(0);
    expect(value(nx, 'probe_dns_answers')).toBe(0);
    const silentPort = await freePort(); // UDP: nothing answers there, the query times out
    expect(value(await probe('kubernetes.default.svc.cluster.local', `127.0.0.1:${silentPort}`).collect(), 'probe_dns_up')).toBe(0);
  });
  it('a resolver that is not an IP is a config error naming the field', () => {
    expect(resolverProblem('127.0.0.1:53')).toBeUndefined();
    expect(resolverProblem('[::1]:5353')).toBeUndefined();
    expect(resolverProblem('::1')).toBeUndefined();
    expect(resolverProblem('coredns.local')).toMatch(/not an IP/);
    const cfg = agentSchema.parse({ probes: { dns: [{ name: 'd', query: 'x', resolver: 'coredns.local' }] } });
    expect(() => defaultCollectors(cfg)).toThrow(ConfigError);
    expect(() => defaultCollectors(cfg)).toThrow(/agent\.probes\.dns\.0\.resolver/);
  });
});

describe('certificate expiry probe', () => {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

  async function makeCert(cn: string, notBefore: Date, notAfter: Date): Promise<x509.X509Certificate> {
    const keys = (await webcrypto.subtle.generateKey(alg, false, ['sign', 'verify'])) as CryptoKeyPair;
    return x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '0a1b2c', name: `CN=${cn}`, notBefore, notAfter, keys, signingAlgorithm: alg });
  }
  const day = 86_400_000;
  // Certificates carry whole seconds.
  const at = (ms: number) => new Date(Math.floor(ms / 1000) * 1000);

  it('seconds until expiry are computed from notAfter and the sample time', async () => {
    const notAfter = at(Date.now() + 30 * day);
    const cert = await makeCert('kubelet', at(Date.now() - day), notAfter);
    const path = join(dir, 'kubelet.crt');
    await writeFile(path, cert.toString('pem'));
    const now = Date.now();
    const points = await new CertProbe({ name: 'kubelet', path }).collect(now);
    expect(value(points, 'probe_cert_up')).toBe(1);
    expect(value(points, 'cert_expiry_seconds')).toBe((notAfter.getTime() - now) / 1000);
    expect(value(points, 'cert_not_after_seconds')).toBe(notAfter.getTime() / 1000);
    const labels = points.find((p) => p.name === 'cert_expiry_seconds')!.labels;
    expect(labels).toEqual({ probe: 'kubelet', path, subject: 'CN=kubelet', serial: '0A1B2C' });
  });

  it('an expired certificate has a negative expiry; every certificate of a bundle is reported; DER works', async () => {
    const expiredAt = at(Date.now() - 2 * day);
    const expired = await makeCert('old', at(Date.now() - 10 * day), expiredAt);
    const valid = await makeCert('ca', at(Date.now() - day), at(Date.now() + 365 * day));
    const bundle = join(dir, 'bundle.pem');
    await writeFile(bundle, `${valid.toString('pem')}\n${expired.toString('pem')}\n`);
    const now = Date.now();
    const points = await new CertProbe({ name: 'bundle', path: bundle }).collect(now);
    const expiries = points.filter((p) => p.name === 'cert_expiry_seconds');
    expect(expiries.map((p) => p.labels.subject)).toEqual(['CN=ca', 'CN=old']);
    expect(expiries[1]!.value).toBe((expiredAt.getTime() - now) / 1000);
    expect(expiries[1]!.value).toBeLessThan(0);

    const der = join(dir, 'old.der');
    await writeFile(der, Buffer.from(expired.rawData));
    const derPoints = await new CertProbe({ name: 'der', path: der }).collect(now);
    expect(value(derPoints, 'cert_expiry_seconds')).toBe((expiredAt.getTime() - now) / 1000);
  });

  it('a missing or garbage file is probe_cert_up 0, not an error', async () => {
    expect(value(await new CertProbe({ name: 'm', path: join(dir, 'missing.crt') }).collect(Date.now()), 'probe_cert_up')).toBe(0);
    const junk = join(dir, 'junk.crt');
    await writeFile(junk, 'not a certificate');
    expect(value(await new CertProbe({ name: 'j', path: junk }).collect(Date.now()), 'probe_cert_up')).toBe(0);
  });
});
