// The units `node.service-restart` may restart on this node (`agent.tasks.services`), each with the
// command that restarts it (an argv array, never a shell line) and the probe that says it is back.
import { z } from 'zod';
import { unitName } from '../../bootstrap/tasks/contract/node-ops.ts';

const serviceProbe = z
  .strictObject({
    /** Answers 2xx/3xx when the unit is healthy (the kubelet's http://127.0.0.1:10248/healthz). */
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** Accepts a connection when the unit is up. */
    tcp: z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }).optional(),
    /** Skip certificate verification for `url` (self-signed serving certificates). */
    insecure: z.boolean().default(false),
    /** One attempt. */
    timeoutMs: z.number().int().positive().default(2_000),
    /** How long after the restart command the probe may take to answer. */
    waitMs: z.number().int().positive().default(60_000),
    intervalMs: z.number().int().positive().default(500),
  })
  .refine((p) => (p.url === undefined) !== (p.tcp === undefined), 'must give exactly one of url or tcp');

export const serviceSchema = z
  .strictObject({
    unit: unitName,
    /** argv; default `systemctl restart <unit>`. */
    restart: z.array(z.string().min(1)).min(1).optional(),
    timeoutMs: z.number().int().positive().default(30_000),
    probe: serviceProbe.optional(),
  })
  .transform(({ restart, ...s }) => ({ ...s, restart: restart ?? ['systemctl', 'restart', s.unit] }));

export const servicesSchema = z
  .array(serviceSchema)
  .default([])
  .superRefine((services, ctx) => {
    const seen = new Set<string>();
    services.forEach((s, i) => {
      if (seen.has(s.unit)) ctx.addIssue({ code: 'custom', path: [i, 'unit'], message: `"${s.unit}" is listed twice` });
      seen.add(s.unit);
    });
  });

export type ServiceConfig = z.output<typeof serviceSchema>;
export type ServiceProbe = NonNullable<ServiceConfig['probe']>;

/** A restart and its probe wait must both fit in the task's timeout, or the runner cuts the task off before it can report. */
export function checkServiceTimeouts(services: ServiceConfig[], taskTimeoutMs: number, ctx: z.RefinementCtx): void {
  services.forEach((s, i) => {
    // The probe's last attempt may start just before its wait runs out.
    const worst = s.timeoutMs + (s.probe ? s.probe.waitMs + s.probe.timeoutMs : 0);
    if (worst >= taskTimeoutMs) {
      ctx.addIssue({ code: 'custom', path: ['services', i, 'timeoutMs'], message: `timeoutMs + probe.waitMs + probe.timeoutMs (${worst} ms) must be below taskTimeoutMs (${taskTimeoutMs} ms)` });
    }
  });
}
