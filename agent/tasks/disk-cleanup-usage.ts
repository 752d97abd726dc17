// The filesystem being relieved: which mount it is (its device, so nothing on another filesystem is
// touched) and how full it is, measured the way low-disk judges it (used = size - free, over size).
import { realpath, stat, statfs } from 'node:fs/promises';
import { parseMountInfo } from '../collectors/mountinfo.ts';
import { readProc } from '../collectors/proc.ts';

export interface Usage {
  usedBytes: number;
  sizeBytes: number;
  usedRatio: number;
}

export interface Mount {
  /** The mount point with symlinks resolved. */
  path: string;
  /** st_dev of the mounted filesystem: a file is on it when its lstat has the same. */
  dev: number;
}

export async function usageOf(mountPath: string): Promise<Usage> {
  const s = await statfs(mountPath);
  const sizeBytes = s.blocks * s.bsize;
  const usedBytes = (s.blocks - s.bfree) * s.bsize;
  return { usedBytes, sizeBytes, usedRatio: sizeBytes > 0 ? usedBytes / sizeBytes : 0 };
}

/** The plane names a mount point; it must be one on this node, not a directory somewhere inside one. */
export async function resolveMount(requested: string, procRoot = '/proc'): Promise<Mount> {
  let path: string;
  try {
    path = await realpath(requested);
  } catch (err) {
    throw new Error(`${requested}: not a mount point on this node (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const mounts = parseMountInfo(await readProc(procRoot, 'self/mountinfo'));
  if (!mounts.some((m) => m.mountPoint === path)) throw new Error(`${requested}: not a mount point on this node`);
  return { path, dev: (await stat(path)).dev };
}
