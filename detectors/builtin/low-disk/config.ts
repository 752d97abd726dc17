// low-disk configuration. Defaults: warning at 85 % used (where the kubelet starts image garbage
// collection) or predicted full within 24 h; critical at 95 % or predicted full within 4 h.
import { z } from 'zod';

const HOUR = 3_600_000;

/** Pseudo and read-only-by-nature filesystems, as node-exporter's fs-types-exclude default. */
export const DEFAULT_IGNORED_FSTYPES = [
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts', 'devtmpfs', 'erofs', 'fusectl',
  'hugetlbfs', 'iso9660', 'mqueue', 'nsfs', 'overlay', 'proc', 'procfs', 'pstore', 'ramfs', 'rpc_pipefs', 'securityfs',
  'selinuxfs', 'squashfs', 'sysfs', 'tmpfs', 'tracefs',
];

export const lowDiskConfig = z
  .strictObject({
    warnPercent: z.number().gt(0).lt(100).default(85),
    criticalPercent: z.number().gt(0).max(100).default(95),
    /** Predicted full within this -> warning / critical. */
    warnWithinMs: z.number().int().positive().default(24 * HOUR),
    criticalWithinMs: z.number().int().positive().default(4 * HOUR),
    /** The trend is fitted (Theil-Sen) over this window of bucket means. */
    windowMs: z.number().int().positive().default(6 * HOUR),
    bucketMs: z.number().int().positive().default(15 * 60_000),
    /** A prediction needs at least this many buckets spanning at least this long. */
    minFitPoints: z.number().int().min(2).default(4),
    minFitSpanMs: z.number().int().nonnegative().default(HOUR),
    /** Only filesystems reported within this window are judged (a silent agent is agent-silent's finding). */
    freshMs: z.number().int().positive().default(60_000),
    /** Tiny filesystems (boot partitions, small config mounts) are ignored, like node-exporter does. */
    minSizeBytes: z.number().nonnegative().default(100 * 1024 * 1024),
    /** Filesystems with fewer inodes than this (or none: btrfs, some FUSE) get no inode check. */
    minInodes: z.number().int().nonnegative().default(1000),
    ignoreFsTypes: z.array(z.string().min(1)).default(DEFAULT_IGNORED_FSTYPES),
    metrics: z
      .strictObject({
        size: z.string().default('node_filesystem_size_bytes'),
        used: z.string().default('node_filesystem_used_bytes'),
        files: z.string().default('node_filesystem_files'),
        filesUsed: z.string().default('node_filesystem_files_used'),
      })
      .prefault({}),
  })
  .refine((c) => c.criticalPercent >= c.warnPercent, { message: 'must be at least warnPercent', path: ['criticalPercent'] })
  .refine((c) => c.criticalWithinMs <= c.warnWithinMs, { message: 'must not exceed warnWithinMs', path: ['criticalWithinMs'] })
  .refine((c) => c.bucketMs * 2 <= c.windowMs, { message: 'must be at most half of windowMs', path: ['bucketMs'] });

export type LowDiskConfig = z.output<typeof lowDiskConfig>;
