// What `node.disk-cleanup` may touch on this node (`agent.tasks.diskCleanup`): the plane asks for
// a filesystem to be relieved, this configuration alone decides which steps run and under which
// roots files may be deleted. A root that could reach the whole machine is refused at start.
import { posix } from 'node:path';
import { z } from 'zod';

/** An absolute directory, not `/`, with no `..`: everything a step deletes lies under one of these. */
export const cleanupRoot = z
  .string()
  .min(1)
  .refine((p) => !p.includes('\0'), 'must not contain a NUL byte')
  .refine((p) => p.startsWith('/'), 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ".."')
  .refine((p) => posix.normalize(p) !== '/', 'must not be "/": name the directories that may be cleaned');

/** Relative to its root, matched against each file's path under it; `..` could only name files outside. */
const cleanupGlob = z
  .string()
  .min(1)
  .refine((g) => !g.includes('\0'), 'must not contain a NUL byte')
  .refine((g) => !g.startsWith('/'), 'must be relative to the roots (no leading "/")')
  .refine((g) => !g.split('/').includes('..'), 'must not contain ".."');

const ageHours = z.number().positive();
const commandTimeoutMs = z.number().int().positive().default(60_000);

const containerImagesStep = z.strictObject({
  kind: z.literal('container-images'),
  /** Where the runtime keeps images; pruning only helps when one of them is on the filesystem being relieved. */
  imageStores: z.array(cleanupRoot).min(1).default(['/var/lib/containerd', '/var/lib/containers/storage']),
  timeoutMs: commandTimeoutMs,
});

const journalStep = z.strictObject({
  kind: z.literal('journal'),
  /** journalctl's --vacuum-size argument. */
  maxSize: z.string().regex(/^\d+[KMGT]?$/, 'must be a size like 500M or 2G').default('500M'),
  /** A journal directory to vacuum (journalctl --directory); the system journal when absent. */
  directory: cleanupRoot.optional(),
  timeoutMs: commandTimeoutMs,
});

const rotatedLogsStep = z.strictObject({
  kind: z.literal('rotated-logs'),
  directories: z.array(cleanupRoot).min(1),
  olderThanHours: ageHours.default(24),
});

const filesStep = z.strictObject({
  kind: z.literal('files'),
  roots: z.array(cleanupRoot).min(1),
  globs: z.array(cleanupGlob).min(1),
  olderThanHours: ageHours,
});

export const cleanupStep = z.discriminatedUnion('kind', [containerImagesStep, journalStep, rotatedLogsStep, filesStep], {
  error: 'must be one of container-images, journal, rotated-logs, files',
});

export const diskCleanupSchema = z
  .strictObject({
    /** Run in this order; the task stops as soon as the filesystem is under the plane's target. */
    steps: z.array(cleanupStep).default([]),
  })
  .prefault({});

export type CleanupStep = z.output<typeof cleanupStep>;
export type DiskCleanupConfig = z.output<typeof diskCleanupSchema>;

