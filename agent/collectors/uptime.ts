// Seconds since boot from /proc/uptime; a drop between samples means the node rebooted.
import { point, type Collector, type Point } from './types.ts';
import { readProc } from './proc.ts';

export class UptimeCollector implements Collector {
  readonly name = 'uptime';
  constructor(private readonly procRoot = '/proc') {}

  async collect(): Promise<Point[]> {
    const up = Number((await readProc(this.procRoot, 'uptime')).trim().split(/\s+/)[0]);
    if (!Number.isFinite(up)) throw new Error('unexpected /proc/uptime format');
    return [point('node_uptime_seconds', up)];
  }
}
