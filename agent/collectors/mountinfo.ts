// Parsing /proc/self/mountinfo and deciding which mounts are real filesystems. Pure functions so the
// rules can be tested on fixtures as well as on the machine itself.

export interface Mount {
  mountPoint: string;
  device: string;
  fsType: string;
  readonly: boolean;
}

/**
 * Pseudo and virtual filesystem types that hold no user data: node-exporter's default
 * `--collector.filesystem.fs-types-exclude` list, plus memory-backed and container-layer types
 * (tmpfs, ramfs, aufs, rootfs, fuse.lxcfs, ...) whose "usage" says nothing about disks.
 */
export const EXCLUDED_FS_TYPES: ReadonlySet<string> = new Set([
  // node-exporter defaults
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts', 'devtmpfs',
  'fusectl', 'hugetlbfs', 'iso9660', 'mqueue', 'nsfs', 'overlay', 'proc', 'procfs', 'pstore',
  'rpc_pipefs', 'securityfs', 'selinuxfs', 'squashfs', 'erofs', 'sysfs', 'tracefs',
  // memory-backed, container layers and other virtual ones
  'tmpfs', 'ramfs', 'rootfs', 'aufs', 'efivarfs', 'devfs', 'nfsd', 'fuse.lxcfs', 'fuse.gvfsd-fuse',
  'fuse.portal', 'fuse.snapfuse', 'shm', 'cpuset', 'xenfs', 'sockfs', 'pipefs', 'anon_inodefs',
]);

/** mountinfo escapes space, tab, newline and backslash as 3-digit octal (`\040`). */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Parses mountinfo (see proc(5)): `id parent major:minor root mountpoint options [optional...] - fstype
 * source superoptions`. When a mount point appears more than once the last line wins: a later mount
 * hides the earlier one, and statfs on the path sees the later one.
 */
export function parseMountInfo(text: string): Mount[] {
  const byMountPoint = new Map<string, Mount>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const before = line.slice(0, sep).split(' ');
    const after = line.slice(sep + 3).split(' ');
    const mountPoint = before[4];
    const mountOptions = before[5];
    const fsType = after[0];
    const source = after[1];
    const superOptions = after[2] ?? '';
    if (mountPoint === undefined || mountOptions === undefined || fsType === undefined || source === undefined) continue;
    const mp = unescapeMountField(mountPoint);
    byMountPoint.delete(mp); // re-insert so iteration order follows the winning line
    byMountPoint.set(mp, {
      mountPoint: mp,
      device: unescapeMountField(source),
      fsType,
      readonly: mountOptions.split(',').includes('ro') || superOptions.split(',').includes('ro'),
    });
  }
  return [...byMountPoint.values()];
}

export function isRealFilesystem(m: Mount, excludeMountPoints: RegExp): boolean {
  return !EXCLUDED_FS_TYPES.has(m.fsType) && !excludeMountPoints.test(m.mountPoint);
}
