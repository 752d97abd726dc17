// Machine collectors against this real machine, plus the mountinfo rules on a fixture that has the
// awkward cases (escaped spaces, shadowed mount points, read-only mounts, pseudo filesystems).
import type { StatsFs } from 'node:fs';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentSchema } from '../../agent/config.ts';
import { CpuCollector, cpuRatios } from '../../agent/collectors/cpu.ts';
import { FilesystemsCollector } from '../../agent/collectors/filesystems.ts';
import { LoadCollector } from '../../agent/collectors/load.ts';
import { MemoryCollector, parseMeminfo } from '../../agent/collectors/memory.ts';
import { EXCLUDED_FS_TYPES, isRealFilesystem, parseMountInfo } from '../../agent/collectors/mountinfo.ts';
import type { Point } from '../../agent/collectors/types.ts';
import { UptimeCollector } from '../../agent/collectors/uptime.ts';

const defaults = agentSchema.parse({});

function one(points: Point[], name: string, labels: Record<string, string> = {}): number {
  const found = points.filter((p) => p.name === name && Object.entries(labels).every(([k, v]) => p.labels[k] === v));
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]!.value;
}

describe('filesystems collector on this machine', () => {
  it('reports the root filesystem with consistent bytes and inodes', async () => {
    const points = await new FilesystemsCollector({ excludeMountPoints: defaults.excludeMountPoints, minFilesystemBytes: 0 }).collect();
    const root = { mount: '/' };
    const size = one(points, 'node_filesystem_size_bytes', root);
    const used = one(points, 'node_filesystem_used_bytes', root);
    const free = one(points, 'node_filesystem_free_bytes', root);
    const avail = one(points, 'node_filesystem_avail_bytes', root);
    expect(size).toBeGreaterThan(0);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(size);
    expect(used + free).toBe(size);
    expect(avail).toBeLessThanOrEqual(free);
    const files = one(points, 'node_filesystem_files', root);
    const filesUsed = one(points, 'node_filesystem_files_used', root);
    expect(filesUsed).toBeLessThanOrEqual(files);
    expect(filesUsed + one(points, 'node_filesystem_files_free', root)).toBe(files);
    expect(one(points, 'node_filesystem_device_error', root)).toBe(0);

    // Same numbers as statfs(2) itself gives for "/".
    const s = await statfs('/');
    expect(size).toBe(s.blocks * s.bsize);
    expect(files).toBe(s.files);

    const rootLabels = points.find((p) => p.name === 'node_filesystem_size_bytes' && p.labels.mount === '/')!.labels;
    expect(rootLabels.readonly).toMatch(/^(true|false)$/);
    expect(rootLabels.device).not.toBe('');
    expect(EXCLUDED_FS_TYPES.has(rootLabels.fstype!)).toBe(false);
  });

  it('reports no pseudo filesystem and nothing under /proc, /sys or /dev', async () => {
    const points = await new FilesystemsCollector({ excludeMountPoints: defaults.excludeMountPoints, minFilesystemBytes: 0 }).collect();
    for (const p of points) {
      expect(['tmpfs', 'proc', 'sysfs', 'devtmpfs', 'devpts', 'cgroup', 'cgroup2', 'overlay', 'squashfs', 'nsfs']).not.toContain(p.labels.fstype);
      expect(p.labels.mount).not.toMatch(/^\/(proc|sys|dev)($|\/)/);
    }
  });

  it('leaves out filesystems smaller than minFilesystemBytes', async () => {
    const points = await new FilesystemsCollector({ excludeMountPoints: defaults.excludeMountPoints, minFilesystemBytes: Number.MAX_SAFE_INTEGER }).collect();
    expect(points.filter((p) => p.name === 'node_filesystem_size_bytes')).toHaveLength(0);
  });
});

describe('a hung mount (statfs never answers)', () => {
  it('is reported as a device error, and not asked again while its call is outstanding', async () => {
    const proc = await mkdtemp(join(tmpdir(), 'whistle-proc-'));
    try {
      await mkdir(join(proc, 'self'));
      await writeFile(
        join(proc, 'self', 'mountinfo'),
        '27 1 254:0 / / rw - ext4 /dev/vda rw\n40 27 0:50 / /mnt/nfs rw - nfs4 server:/export rw\n',
      );
      const calls: string[] = [];
      let hung = true;
      let answerHung: (s: StatsFs) => void = () => {};
      const fake = (path: string): Promise<StatsFs> => {
        calls.push(path);
        if (path === '/mnt/nfs' && hung) return new Promise((resolve) => (answerHung = resolve));
        return statfs('/');
      };
      const c = new FilesystemsCollector({ procRoot: proc, excludeMountPoints: defaults.excludeMountPoints, minFilesystemBytes: 0, statfsTimeoutMs: 50, statfs: fake });
      const first = await c.collect();
      expect(one(first, 'node_filesystem_device_error', { mount: '/mnt/nfs', fstype: 'nfs4', device: 'server:/export' })).toBe(1);
      expect(first.filter((p) => p.labels.mount === '/mnt/nfs')).toHaveLength(1);
      expect(one(first, 'node_filesystem_device_error', { mount: '/' })).toBe(0);

      const second = await c.collect();
      expect(one(second, 'node_filesystem_device_error', { mount: '/mnt/nfs' })).toBe(1);
      expect(calls.filter((p) => p === '/mnt/nfs')).toHaveLength(1); // not asked again

      hung = false; // the mount recovers: the outstanding call answers, later ones are quick
      answerHung(await statfs('/'));
      await new Promise((r) => setImmediate(r));
      const third = await c.collect();
      expect(one(third, 'node_filesystem_device_error', { mount: '/mnt/nfs' })).toBe(0);
      expect(one(third, 'node_filesystem_size_bytes', { mount: '/mnt/nfs' })).toBeGreaterThan(0);
    } finally {
      await rm(proc, { recursive: true, force: true });
    }
  });
});

describe('mountinfo rules', () => {
  const fixture = [
    '22 27 0:21 / /proc rw,relatime - proc proc rw',
    '24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=1k',
    '25 24 0:23 / /run rw,nosuid - tmpfs tmpfs rw',
    '26 1 0:24 / / rw,relatime - rootfs rootfs rw',
    '27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
    '28 27 254:1 / /data\\040disk ro,relatime - xfs /dev/vdb rw',
    '29 27 254:2 / /srv rw,relatime - ext4 /dev/vdc ro',
    '30 27 0:40 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw',
    '31 27 0:41 / /snap/core/1 ro - squashfs /dev/loop0 ro',
    '32 27 0:42 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    '33 27 254:3 / /var/lib/kubelet/pods/uid/volumes/x rw - ext4 /dev/vda rw',
    '34 27 0:43 / /mnt/nfs rw - nfs4 server:/export rw',
    '',
  ].join('\n');
  const exclude = new RegExp(defaults.excludeMountPoints);
  const real = parseMountInfo(fixture).filter((m) => isRealFilesystem(m, exclude));

  it('keeps disks and network filesystems, drops pseudo ones and excluded mount points', () => {
    expect(real.map((m) => m.mountPoint)).toEqual(['/', '/data disk', '/srv', '/mnt/nfs']);
  });
  it('takes the last mount of a mount point (the one statfs sees)', () => {
    expect(real[0]).toEqual({ mountPoint: '/', device: '/dev/vda', fsType: 'ext4', readonly: false });
  });
  it('marks read-only from either the mount or the superblock options', () => {
    expect(real.find((m) => m.mountPoint === '/data disk')!.readonly).toBe(true);
    expect(real.find((m) => m.mountPoint === '/srv')!.readonly).toBe(true);
  });
});

describe('memory, load, CPU and uptime on this machine', () => {
  it('memory: totals present and consistent', async () => {
    const points = await new MemoryCollector().collect();
    const total = one(points, 'node_memory_MemTotal_bytes');
    const available = one(points, 'node_memory_MemAvailable_bytes');
    expect(total).toBeGreaterThan(64 * 1024 * 1024);
    expect(available).toBeGreaterThan(0);
    expect(available).toBeLessThanOrEqual(total);
    expect(one(points, 'node_memory_MemFree_bytes')).toBeLessThanOrEqual(total);
    const ratio = one(points, 'node_memory_used_ratio');
    expect(ratio).toBeGreaterThanOrEqual(0);
    expect(ratio).toBeLessThanOrEqual(1);
  });

  it('meminfo parsing converts kB to bytes and keeps unit-less counts', () => {
    const m = parseMeminfo('MemTotal:       1000 kB\nHugePages_Total:       7\n');
    expect(m.get('MemTotal')).toBe(1024_000);
    expect(m.get('HugePages_Total')).toBe(7);
  });

  it('load: 1, 5 and 15 minute averages', async () => {
    const points = await new LoadCollector().collect();
    for (const n of ['node_load1', 'node_load5', 'node_load15']) expect(one(points, n)).toBeGreaterThanOrEqual(0);
  });

  it('cpu: first collection primes, the second reports a ratio in [0, 1]', async () => {
    const cpu = new CpuCollector();
    const first = await cpu.collect();
    expect(first.map((p) => p.name)).toEqual(['node_cpus']);
    expect(first[0]!.value).toBeGreaterThanOrEqual(1);
    // Burn a little CPU so some jiffies pass between the two readings.
    let second: Point[] = [];
    for (let i = 0; i < 200 && !second.some((p) => p.name === 'node_cpu_utilisation'); i++) {
      const until = Date.now() + 20;
      while (Date.now() < until) Math.sqrt(Math.random());
      second = await cpu.collect();
    }
    const util = one(second, 'node_cpu_utilisation');
    expect(util).toBeGreaterThanOrEqual(0);
    expect(util).toBeLessThanOrEqual(1);
  });

  it('cpu ratios come from jiffy deltas', () => {
    const prev = { user: 100, nice: 0, system: 50, idle: 800, iowait: 50, irq: 0, softirq: 0, steal: 0 };
    const cur = { user: 160, nice: 0, system: 70, idle: 900, iowait: 60, irq: 0, softirq: 0, steal: 10 };
    // 200 jiffies elapsed, 110 of them idle or iowait.
    expect(cpuRatios(prev, cur)).toEqual({ busy: 1 - 110 / 200, iowait: 10 / 200, steal: 10 / 200 });
    expect(cpuRatios(prev, prev)).toBeUndefined();
  });

  it('uptime: seconds since boot', async () => {
    expect(one(await new UptimeCollector().collect(), 'node_uptime_seconds')).toBeGreaterThan(0);
  });
});
