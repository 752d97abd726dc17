// cert-expiry from rows: the newest expiry report per node and certificate.
import type { Finding } from '../../../core/types.ts';
import { humanDuration, makeFinding, type LatestRow } from '../../api.ts';
import type { CertExpiryConfig } from './config.ts';

export const ID = 'cert-expiry';

export function certExpiryFindings(cluster: string, now: number, rows: readonly LatestRow[], cfg: CertExpiryConfig): Finding[] {
  const out: Finding[] = [];
  for (const r of rows) {
    if (r.name !== cfg.metric || now - r.ts > cfg.freshMs) continue;
    const notAfter = cfg.valueIs === 'timestamp' ? r.value * 1000 : r.ts + r.value * 1000;
    const left = notAfter - now;
    if (left > cfg.warnWithinMs) continue;
    const cert = r.labels.probe || r.labels.path || 'certificate';
    // The serial is part of the identity: a renewed certificate is a new subject, so the old finding resolves.
    const serial = r.labels.serial ?? '';
    const expired = left <= 0;
    out.push(
      makeFinding(ID, cluster, now, {
        subject: `${r.node}:${cert}:${serial}`,
        severity: left <= cfg.criticalWithinMs ? 'critical' : 'warning',
        summary: expired
          ? `certificate ${cert} on ${r.node} expired ${humanDuration(-left)} ago`
          : `certificate ${cert} on ${r.node} expires in ${humanDuration(left)} (${new Date(notAfter).toISOString()})`,
        labels: { node: r.node, cert },
        evidence: {
          node: r.node,
          cert,
          path: r.labels.path ?? null,
          certSubject: r.labels.subject ?? null,
          serial: serial || null,
          notAfter: new Date(notAfter).toISOString(),
          secondsLeft: Math.round(left / 1000),
          expired,
        },
      }),
    );
  }
  return out;
}
