// Samples a process's resident memory from /proc while the fuzzer runs: the peak, and whether the
// last stretch is still climbing (memory that grows with the number of bad requests is a leak).
import { readFileSync } from 'node:fs';

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined; // the process is gone; the liveness check reports that
  }
}

export class RssSampler {
  private readonly samples: number[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pid: number,
    private readonly everyMs = 250,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  /** Resident memory now (MB), or 0 when the process is gone. */
  now(): number {
    return Math.round(rssMb(this.pid) ?? 0);
  }

  stop(): { peakMb: number; startMb: number; endMb: number; samples: number } {
    clearInterval(this.timer);
    this.sample();
    const s = this.samples;
    return { peakMb: Math.round(Math.max(0, ...s)), startMb: Math.round(s[0] ?? 0), endMb: Math.round(s.at(-1) ?? 0), samples: s.length };
  }

  private sample(): void {
    const mb = rssMb(this.pid);
    if (mb !== undefined) this.samples.push(mb);
  }
}
