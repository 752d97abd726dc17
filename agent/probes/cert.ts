// Certificate expiry of files on the node (kubelet client/serving certs, apiserver and etcd certs).
// Every certificate in the file is reported, so an expiring intermediate in a bundle is seen too.
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { point, type Collector, type Point } from '../collectors/types.ts';

export interface CertProbeConfig {
  name: string;
  path: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** PEM (one or more blocks) or a single DER certificate. */
export function parseCertificates(data: Buffer): X509Certificate[] {
  const blocks = data.toString('latin1').match(PEM_BLOCK);
  if (blocks) return blocks.map((b) => new X509Certificate(b));
  return [new X509Certificate(data)];
}

/** notAfter as epoch ms. validTo is "Nov 27 12:20:01 2026 GMT" (second precision). */
export function notAfterMs(cert: X509Certificate): number {
  const ms = Date.parse(cert.validTo);
  if (!Number.isFinite(ms)) throw new Error(`cannot parse validTo "${cert.validTo}"`);
  return ms;
}

/** Distinguished name on one line: "CN=kubelet, O=system:nodes". */
export function subjectLine(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

export class CertProbe implements Collector {
  readonly name: string;

  constructor(private readonly cfg: CertProbeConfig) {
    this.name = `probe_cert/${cfg.name}`;
  }

  async collect(now: number): Promise<Point[]> {
    const fileLabels = { probe: this.cfg.name, path: this.cfg.path };
    let certs: X509Certificate[];
    try {
      certs = parseCertificates(await readFile(this.cfg.path));
    } catch {
      // Missing, unreadable or not a certificate: a detector must see this as loudly as an expiry.
      return [point('probe_cert_up', 0, fileLabels)];
    }
    const points = [point('probe_cert_up', 1, fileLabels)];
    for (const cert of certs) {
      const labels = { ...fileLabels, subject: subjectLine(cert), serial: cert.serialNumber };
      points.push(point('cert_expiry_seconds', (notAfterMs(cert) - now) / 1000, labels));
      points.push(point('cert_not_after_seconds', notAfterMs(cert) / 1000, labels));
    }
    return points;
  }
}
