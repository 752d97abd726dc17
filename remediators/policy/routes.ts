// Remediation's operator API: plans awaiting a person (`whistle approve`) and the record of every
// remediation and bootstrap step.
//   GET  /v1/plans?state=&cluster=&incident=     GET /v1/plans/:id
//   POST /v1/plans/:id/approve {comment?}        POST /v1/plans/:id/reject {reason?}
//   GET  /v1/actions?cluster=&incident=&limit=
import type { AuditLog } from '../../core/audit.ts';
import type { OperatorAuth } from '../../core/http/operator-auth.ts';
import type { RoutePlugin } from '../../core/stage.ts';
import type { Approvals } from './approvals.ts';
import type { ActionRecorder } from './recorder.ts';

export interface RemediationRouteDeps {
  approvals: Approvals;
  recorder: ActionRecorder;
  auth: OperatorAuth;
  audit: AuditLog;
}

export function remediationRoutes({ approvals, recorder, auth, audit }: RemediationRouteDeps): RoutePlugin {
  return async (app) => {
    app.addHook('preHandler', auth.preHandler);
    app.get<{ Querystring: { state?: string; cluster?: string; incident?: string } }>(
      '/v1/plans',
      { schema: { querystring: { type: 'object', additionalProperties: false, properties: { state: { type: 'string', maxLength: 32 }, cluster: { type: 'string', maxLength: 63 }, incident: { type: 'string', maxLength: 64 } } } } },
      async (req) => ({ plans: approvals.list({ state: req.query.state, cluster: req.query.cluster, incidentId: req.query.incident }) }),
    );
    app.get<{ Params: { id: string } }>('/v1/plans/:id', async (req) => ({ plan: approvals.get(req.params.id) }));
    app.post<{ Params: { id: string }; Body: { comment?: string } }>(
      '/v1/plans/:id/approve',
      { schema: { body: { type: 'object', additionalProperties: false, properties: { comment: { type: 'string', maxLength: 1000 } } } } },
      async (req) => {
        const actor = auth.actorOf(req);
        const plan = await approvals.approve(req.params.id, actor, req.body?.comment);
        await audit.record({ actor, action: 'plan.approve', cluster: plan.cluster, subject: plan.id, detail: { incidentId: plan.incidentId, kind: plan.kind } });
        return { plan };
      },
    );
    app.post<{ Params: { id: string }; Body: { reason?: string } }>(
      '/v1/plans/:id/reject',
      { schema: { body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 1000 } } } } },
      async (req) => {
        const actor = auth.actorOf(req);
        const plan = await approvals.reject(req.params.id, actor, req.body?.reason ?? '');
        await audit.record({ actor, action: 'plan.reject', cluster: plan.cluster, subject: plan.id });
        return { plan };
      },
    );
    app.get<{ Querystring: { cluster?: string; incident?: string; limit?: number } }>(
      '/v1/actions',
      { schema: { querystring: { type: 'object', additionalProperties: false, properties: { cluster: { type: 'string', maxLength: 63 }, incident: { type: 'string', maxLength: 64 }, limit: { type: 'integer', minimum: 1, maximum: 1000 } } } } },
      async (req) => ({ actions: await recorder.list({ cluster: req.query.cluster, incidentId: req.query.incident, limit: req.query.limit }) }),
    );
  };
}
