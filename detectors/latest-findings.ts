// The latest verdict of each (cluster, detector), passed on to the next sink and served at
// GET /v1/findings.
import type { DetectorReport, FindingSink } from '../core/pipeline.ts';
import type { Finding } from '../core/types.ts';

export class LatestFindings implements FindingSink {
  private readonly latest = new Map<string, DetectorReport>();
  constructor(private readonly next: FindingSink) {}

  async report(r: DetectorReport): Promise<void> {
    await this.next.report(r);
    this.latest.set(`${r.cluster}\u0000${r.detector}`, r);
  }

  /** The latest report of one detector on one cluster (its tick's time and every finding), if it ran. */
  latestReport(cluster: string, detector: string): DetectorReport | undefined {
    return this.latest.get(`${cluster}\u0000${detector}`);
  }

  list(filter: { cluster?: string; detector?: string } = {}): Finding[] {
    const out: Finding[] = [];
    for (const r of this.latest.values()) {
      if ((filter.cluster && r.cluster !== filter.cluster) || (filter.detector && r.detector !== filter.detector)) continue;
      out.push(...r.findings);
    }
    return out.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.detector.localeCompare(b.detector) || a.subject.localeCompare(b.subject));
  }
}
