// CPU utilisation from the aggregate "cpu" line of /proc/stat. The counters are cumulative jiffies,
// so a ratio needs two readings: the first collection only primes the previous reading and reports
// node_cpus alone; every later one reports the ratios over the interval since the previous one.
import { point, type Collector, type Point } from './types.ts';
import { readProc } from './proc.ts';

export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface ProcStat {
  total: CpuTimes;
  cpus: number;
}

export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | undefined;
  let cpus = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      // guest and guest_nice are already included in user and nice, so they are not added again.
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
        .slice(4)
        .trim()
        .split(/\s+/)
        .map(Number);
      total = { user, nice, system, idle, iowait, irq, softirq, steal };
    } else if (/^cpu\d+ /.test(line)) {
      cpus++;
    }
  }
  if (!total) throw new Error('no aggregate cpu line in /proc/stat');
  return { total, cpus };
}

function sum(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/** Ratios of the interval between two readings; undefined when no time passed. */
export function cpuRatios(prev: CpuTimes, cur: CpuTimes): { busy: number; iowait: number; steal: number } | undefined {
  const elapsed = sum(cur) - sum(prev);
  if (elapsed <= 0) return undefined;
  const idle = cur.idle - prev.idle + (cur.iowait - prev.iowait);
  const clamp = (v: number) => Math.min(1, Math.max(0, v));
  return {
    busy: clamp(1 - idle / elapsed),
    iowait: clamp((cur.iowait - prev.iowait) / elapsed),
    steal: clamp((cur.steal - prev.steal) / elapsed),
  };
}

export class CpuCollector implements Collector {
  readonly name = 'cpu';
  private prev: CpuTimes | undefined;
  constructor(private readonly procRoot = '/proc') {}

  async collect(): Promise<Point[]> {
    const stat = parseProcStat(await readProc(this.procRoot, 'stat'));
    const points = [point('node_cpus', stat.cpus)];
    const ratios = this.prev && cpuRatios(this.prev, stat.total);
    this.prev = stat.total;
    if (ratios) {
      points.push(
        point('node_cpu_utilisation', ratios.busy),
        point('node_cpu_iowait_ratio', ratios.iowait),
        point('node_cpu_steal_ratio', ratios.steal),
      );
    }
    return points;
  }
}
