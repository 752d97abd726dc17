import { describe, expect, it } from 'vitest';
import { latest, NOW } from '../../testing/rows.ts';
import { certExpiryConfig } from './config.ts';
import { certExpiryFindings } from './logic.ts';

const cfg = certExpiryConfig.parse({});
const DAY = 86_400;
const cert = (node: string, secondsLeft: number, serial = 'AB01') =>
  latest(node, 'cert_expiry_seconds', secondsLeft, { probe: 'kubelet-serving', path: '/var/lib/kubelet/pki/kubelet.crt', subject: 'CN=kubelet', serial });

describe('cert-expiry', () => {
  it('warns within 30 days, critical within 7 days and once expired', () => {
    const f = certExpiryFindings('c1', NOW, [cert('a', 90 * DAY), cert('b', 20 * DAY), cert('c', 3 * DAY), cert('d', -DAY)], cfg);
    expect(f.map((x) => [x.subject, x.severity])).toEqual([
      ['b:kubelet-serving:AB01', 'warning'],
      ['c:kubelet-serving:AB01', 'critical'],
      ['d:kubelet-serving:AB01', 'critical'],
    ]);
    expect(f[2]!.summary).toMatch(/expired/);
    expect(f[0]!.evidence).toMatchObject({ serial: 'AB01', certSubject: 'CN=kubelet', expired: false });
  });

  it('accounts for the time since the sample, and reads notAfter timestamps when configured', () => {
    // Sampled 5 s ago with 7 d + 3 s left: now less than 7 d.
    expect(certExpiryFindings('c1', NOW, [cert('a', 7 * DAY + 3)], cfg)[0]!.severity).toBe('critical');
    const ts = certExpiryConfig.parse({ metric: 'cert_not_after_seconds', valueIs: 'timestamp' });
    const row = latest('a', 'cert_not_after_seconds', NOW / 1000 + 10 * DAY, { probe: 'p', serial: '1' });
    expect(certExpiryFindings('c1', NOW, [row], ts)[0]!.severity).toBe('warning');
  });

  it('a renewed certificate (new serial) is a different subject', () => {
    const [old] = certExpiryFindings('c1', NOW, [cert('a', DAY, 'OLD')], cfg);
    const [renewed] = certExpiryFindings('c1', NOW, [cert('a', DAY, 'NEW')], cfg);
    expect(old!.fingerprint).not.toBe(renewed!.fingerprint);
  });
});
