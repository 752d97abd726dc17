// Bytes and inodes of every real mounted filesystem (pseudo filesystems and excluded mount points are
// skipped, see mountinfo.ts). statfs on a dead network mount can block a libuv worker for minutes, so
// each call has a deadline and a mount whose call is still outstanding is not asked again until it
// answers: it is reported with node_filesystem_device_error=1 instead (node-exporter does the same).
import type { StatsFs } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { point, type Collector, type Point } from './types.ts';
import { isRealFilesystem, parseMountInfo, type Mount } from './mountinfo.ts';
import { readProc } from './proc.ts';

export interface FilesystemsOptions {
  procRoot?: string;
  excludeMountPoints: string;
  minFilesystemBytes: number;
  statfsTimeoutMs?: number;
  /** Replaceable so tests can play a hung network mount. */
  statfs?: (path: string) => Promise<StatsFs>;
}

export class FilesystemsCollector implements Collector {
  readonly name = 'filesystems';
  private readonly exclude: RegExp;
  /** Mount points whose statfs has not answered yet. */
  private readonly stuck = new Set<string>();

  constructor(private readonly opts: FilesystemsOptions) {
    this.exclude = new RegExp(opts.excludeMountPoints);
  }

  async collect(): Promise<Point[]> {
    const mounts = parseMountInfo(await readProc(this.opts.procRoot ?? '/proc', 'self/mountinfo')).filter((m) =>
      isRealFilesystem(m, this.exclude),
    );
    const perMount = await Promise.all(mounts.map((m) => this.measure(m)));
    return perMount.flat();
  }

  private async measure(m: Mount): Promise<Point[]> {
    const labels = { mount: m.mountPoint, device: m.device, fstype: m.fsType, readonly: String(m.readonly) };
    if (this.stuck.has(m.mountPoint)) return [point('node_filesystem_device_error', 1, labels)];
    let s: StatsFs;
    try {
      s = await this.statfsWithDeadline(m.mountPoint);
    } catch {
      return [point('node_filesystem_device_error', 1, labels)];
    }
    const size = s.blocks * s.bsize;
    if (size < this.opts.minFilesystemBytes) return [];
    // "used" is size - free (what df shows as Used); "avail" excludes blocks reserved for root.
    return [
      point('node_filesystem_size_bytes', size, labels),
      point('node_filesystem_free_bytes', s.bfree * s.bsize, labels),
      point('node_filesystem_avail_bytes', s.bavail * s.bsize, labels),
      point('node_filesystem_used_bytes', (s.blocks - s.bfree) * s.bsize, labels),
      point('node_filesystem_files', s.files, labels),
      point('node_filesystem_files_free', s.ffree, labels),
      point('node_filesystem_files_used', s.files - s.ffree, labels),
      point('node_filesystem_device_error', 0, labels),
    ];
  }

  private statfsWithDeadline(path: string): Promise<StatsFs> {
    const call = (this.opts.statfs ?? statfs)(path);
    this.stuck.add(path);
    const settled = call.finally(() => this.stuck.delete(path));
    settled.catch(() => {}); // the error is reported through `call` below
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`statfs ${path}: no answer`)), this.opts.statfsTimeoutMs ?? 5000);
      call.then(
        (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }
}
