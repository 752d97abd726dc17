// The dry run of the escalation chains, for operators:
//   GET  /v1/remediation/plan?cluster=   every active incident's remaining chain (nothing recorded)
//   POST /v1/remediation/plan {cluster?} the same, each recorded as a dry-run action of its incident
import type { AuditLog } from '../core/audit.ts';
import { NotFoundError } from '../core/errors.ts';
import type { OperatorAuth } from '../core/http/operator-auth.ts';
import type { RoutePlugin } from '../core/stage.ts';
import type { RemediationPlanner } from './plan.ts';

export interface PlanRouteDeps {
  planner: RemediationPlanner;
  clusters: () => readonly { name: string }[];
  auth: OperatorAuth;
  audit: AuditLog;
}

const cluster = { type: 'string', minLength: 1, maxLength: 253 };

export function planRoutes({ planner, clusters, auth, audit }: PlanRouteDeps): RoutePlugin {
  const known = (name: string | undefined) => {
    if (name !== undefined && !clusters().some((c) => c.name === name)) throw new NotFoundError(`cluster ${name} is not configured`);
  };
  return async (app) => {
    app.addHook('preHandler', auth.preHandler);
    app.get<{ Querystring: { cluster?: string } }>(
      '/v1/remediation/plan',
      { schema: { querystring: { type: 'object', additionalProperties: false, properties: { cluster } } } },
      async (req) => {
        known(req.query.cluster);
        return { plans: planner.plans(req.query.cluster) };
      },
    );
    app.post<{ Body: { cluster?: string } }>(
      '/v1/remediation/plan',
      { schema: { body: { type: 'object', additionalProperties: false, properties: { cluster } } } },
      async (req) => {
        known(req.body?.cluster);
        const actor = auth.actorOf(req);
        const plans = await planner.record(req.body?.cluster, actor);
        await audit.record({ actor, action: 'remediation.plan', cluster: req.body?.cluster ?? '', subject: req.body?.cluster ?? '*', detail: { incidents: plans.length } });
        return { plans, recorded: plans.length };
      },
    );
  };
}
