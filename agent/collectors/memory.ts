// Memory from /proc/meminfo, in bytes, named like node-exporter (node_memory_<Field>_bytes) so
// existing knowledge carries over, plus one derived ratio detectors can threshold directly.
import { point, type Collector, type Point } from './types.ts';
import { readProc } from './proc.ts';

/** The meminfo fields reported; the rest are kernel detail nobody alerts on. */
export const MEMINFO_FIELDS = [
  'MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SwapTotal', 'SwapFree', 'Dirty', 'Shmem',
  'SReclaimable', 'Committed_AS',
] as const;

export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (!m) continue;
    // Values are in KiB when the unit is present ("kB" in the file means 1024 bytes).
    out.set(m[1]!, Number(m[2]) * (line.trimEnd().endsWith('kB') ? 1024 : 1));
  }
  return out;
}

export class MemoryCollector implements Collector {
  readonly name = 'memory';
  constructor(private readonly procRoot = '/proc') {}

  async collect(): Promise<Point[]> {
    const info = parseMeminfo(await readProc(this.procRoot, 'meminfo'));
    const points: Point[] = [];
    for (const field of MEMINFO_FIELDS) {
      const v = info.get(field);
      if (v !== undefined) points.push(point(`node_memory_${field}_bytes`, v));
    }
    const total = info.get('MemTotal');
    const available = info.get('MemAvailable');
    if (total && available !== undefined) points.push(point('node_memory_used_ratio', 1 - available / total));
    return points;
  }
}
