// The PKI: a CA, and node certificates signed from the node's own CSR with the names the plane
// chooses (not the CSR's), the right usages, and a chain that verifies.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../bootstrap/pki/ca.ts';
import { ensureKeyAndCsr } from '../../bootstrap/pki/csr.ts';
import { x509 } from '../../bootstrap/pki/x509.ts';

const dir = mkdtempSync(join(tmpdir(), 'whistle-pki-'));
afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }));

describe('etcd PKI', () => {
  it('issues server, peer and client certificates from a CSR', async () => {
    const ca = await CertificateAuthority.ensure(join(dir, 'ca'), 'test-ca');
    expect(statSync(join(dir, 'ca', 'ca.key')).mode & 0o777).toBe(0o600);
    const again = await CertificateAuthority.ensure(join(dir, 'ca'), 'test-ca');
    expect(again.certPem).toBe(ca.certPem); // idempotent
    const { csrPem, created } = await ensureKeyAndCsr(join(dir, 'n1'), 'n1');
    expect(created).toBe(true);
    expect((await ensureKeyAndCsr(join(dir, 'n1'), 'n1')).created).toBe(false); // the key stays

    const server = new x509.X509Certificate(await ca.sign(csrPem, { commonName: 'n1', role: 'server', ips: ['127.0.9.1', '127.0.0.1'], dnsNames: ['n1'] }));
    const san = server.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.names.items.map((n) => `${n.type}:${n.value}`).sort()).toEqual(['dns:n1', 'ip:127.0.0.1', 'ip:127.0.9.1']);
    const eku = server.getExtension(x509.ExtendedKeyUsageExtension)!;
    expect(eku.usages).toEqual([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]);
    expect(await server.verify({ publicKey: ca.cert.publicKey })).toBe(true);

    const client = new x509.X509Certificate(await ca.sign(csrPem, { commonName: 'agent-n1', role: 'client' }));
    expect(client.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(client.getExtension(x509.SubjectAlternativeNameExtension)).toBeNull();
    const chain = await new x509.X509ChainBuilder({ certificates: [ca.cert] }).build(client);
    expect(chain).toHaveLength(2);
  });

  it('refuses bad input', async () => {
    const ca = await CertificateAuthority.ensure(join(dir, 'ca'), 'test-ca');
    const { csrPem } = await ensureKeyAndCsr(join(dir, 'n2'), 'n2');
    await expect(ca.sign(csrPem, { commonName: 'n2', role: 'server', ips: ['not-an-ip'] })).rejects.toThrow(/not an IP address: not-an-ip/);
    await expect(ca.sign('garbage', { commonName: 'n2', role: 'server' })).rejects.toThrow();
  });
});
