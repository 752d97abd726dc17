// Load averages from /proc/loadavg (runnable + uninterruptible tasks, 1/5/15-minute averages).
import { point, type Collector, type Point } from './types.ts';
import { readProc } from './proc.ts';

export class LoadCollector implements Collector {
  readonly name = 'load';
  constructor(private readonly procRoot = '/proc') {}

  async collect(): Promise<Point[]> {
    const [l1, l5, l15] = (await readProc(this.procRoot, 'loadavg')).trim().split(/\s+/).map(Number);
    if (![l1, l5, l15].every((v) => Number.isFinite(v))) throw new Error('unexpected /proc/loadavg format');
    return [point('node_load1', l1!), point('node_load5', l5!), point('node_load15', l15!)];
  }
}
