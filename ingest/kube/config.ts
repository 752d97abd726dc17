// Kubernetes watching's section (`kube:`). Which clusters are watched comes from `clusters[]`
// (those with a kubeconfig); this section only tunes how.
import { z } from 'zod';

export const kubeSchema = z.strictObject({
  /**
   * Server-side timeout of each watch request, after which the watch resumes from the last
   * resourceVersion. Default: 60-120 s at random, so many clusters do not re-watch in step.
   */
  watchTimeoutSeconds: z.number().int().min(10).max(3600).optional(),
  /** Rows per insert into kube_objects / kube_events, and how long a partial batch may wait. */
  writer: z
    .strictObject({
      batchSize: z.number().int().positive().default(5000),
      flushIntervalMs: z.number().int().positive().default(500),
    })
    .prefault({}),
});

export type KubeConfig = z.infer<typeof kubeSchema>;
