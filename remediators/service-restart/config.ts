// service-restart configuration (`remediation.serviceRestart`; `enabled` is added by the stage).
// Which command restarts the unit and which probe says it is back are the node's own
// `agent.tasks.services`; the plane names only the unit.
import { z } from 'zod';
import { unitName } from '../../bootstrap/tasks/contract/node-ops.ts';

export const serviceRestartConfig = z.strictObject({
  /** The unit restarted for a kubelet-down incident; it must be in the node's `agent.tasks.services`. */
  unit: unitName.default('kubelet'),
  /**
   * The telemetry that says the unit is back: the agent's http probe of that name
   * (`agent.probes.http[].name`), the same one the kubelet-down detector reads.
   */
  probeName: z.string().min(1).default('kubelet'),
  metric: z.string().min(1).default('probe_http_up'),
  /** How long the node's agent may take to restart the unit and wait for it (its own `agent.tasks.taskTimeoutMs` also bounds it). */
  taskTimeoutMs: z.number().int().positive().default(150_000),
  /** After the restart, how long to wait for a probe sample newer than it that says up. */
  verifyTimeoutMs: z.number().int().positive().default(60_000),
  verifyIntervalMs: z.number().int().positive().default(500),
});

export type ServiceRestartConfig = z.output<typeof serviceRestartConfig>;
