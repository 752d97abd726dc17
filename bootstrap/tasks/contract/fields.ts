// Field schemas that more than one task kind shares. Whatever reaches a node's command line or file
// system is pinned down to a shape that cannot carry a path, a flag or a shell word.
import { z } from 'zod';

export const port = z.number().int().min(1).max(65535);

export const clusterToken = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be 1-128 letters, digits, ".", "_" or "-"');

/** A bare file name inside the agent's backup dir: no slashes, no "..". */
export const snapshotFile = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.db$/, 'must be a file name like <cluster>-<ts>.db');

export const initialCluster = z
  .string()
  .max(4096)
  .regex(/^[A-Za-z0-9._-]+=https:\/\/[0-9.]+:\d{1,5}(,[A-Za-z0-9._-]+=https:\/\/[0-9.]+:\d{1,5})*$/, 'must be name=https://ip:port,...');

export const memberId = z.string().regex(/^\d{1,20}$/, 'must be a decimal member id');

export const peerURL = z.string().regex(/^https:\/\/[0-9.]+:\d{1,5}$/, 'must be https://<ipv4>:<port>');

export const pem = (label: string) =>
  z
    .string()
    .max(16_384)
    .refine((s) => s.includes(`-----BEGIN ${label}-----`), `must be a PEM ${label}`);

/** Tasks that take no parameters still refuse any that are given. */
export const none = z.strictObject({});

/** What binding one port found: free, or why not. */
export const portCheck = z.object({ port, free: z.boolean(), error: z.string().optional() });
