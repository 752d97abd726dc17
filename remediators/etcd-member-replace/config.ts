// etcd-member-replace configuration (`remediation.etcdMemberReplace`; `enabled` is added by the
// stage). Defaults suit 100 ms etcd heartbeats and a few seconds of telemetry delay.
import { z } from 'zod';

export const etcdMemberReplaceConfig = z.strictObject({
  /** Re-use the lost member's node (after a reset) when its agent is alive; else take a spare. */
  preferSameNode: z.boolean().default(true),
  /**
   * A candidate node takes the member only if its agent answers a read-only task within this long.
   * Having polled lately is not enough: a poll that a dying agent left open still looks alive.
   */
  agentAnswerMs: z.number().int().positive().default(2_000),
  /** A member must still be unhealthy this long after the first live check (restarts are not losses). */
  confirmAfterMs: z.number().int().nonnegative().default(1_000),
  /** Open incidents are looked at again this often, besides their events (a reconcile loop); 0: never. */
  recheckMs: z.number().int().nonnegative().default(5_000),
  /** After healing, how long to wait for telemetry to show every member up before resolving. */
  telemetryCatchUpMs: z.number().int().nonnegative().default(15_000),
});

export type EtcdMemberReplaceConfig = z.output<typeof etcdMemberReplaceConfig>;
