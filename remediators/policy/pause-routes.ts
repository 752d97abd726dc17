// Pausing remediation per cluster, for operators:
//   GET  /v1/remediation                     every cluster's pause state
//   POST /v1/remediation/:cluster/pause  {reason?}
//   POST /v1/remediation/:cluster/resume {reason?}
import type { AuditLog } from '../../core/audit.ts';
import { NotFoundError } from '../../core/errors.ts';
import type { OperatorAuth } from '../../core/http/operator-auth.ts';
import type { RoutePlugin } from '../../core/stage.ts';
import type { RemediationPause } from './pause.ts';

export interface PauseRouteDeps {
  pause: RemediationPause;
  clusters: () => readonly { name: string }[];
  auth: OperatorAuth;
  audit: AuditLog;
}

const body = { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 1000 } } };

export function pauseRoutes({ pause, clusters, auth, audit }: PauseRouteDeps): RoutePlugin {
  const known = (cluster: string) => {
    if (!clusters().some((c) => c.name === cluster)) throw new NotFoundError(`cluster ${cluster} is not configured`);
  };
  return async (app) => {
    app.addHook('preHandler', auth.preHandler);
    app.get('/v1/remediation', async () => ({ clusters: clusters().map((c) => pause.get(c.name)) }));
    for (const action of ['pause', 'resume'] as const) {
      app.post<{ Params: { cluster: string }; Body: { reason?: string } }>(`/v1/remediation/:cluster/${action}`, { schema: { body } }, async (req) => {
        known(req.params.cluster);
        const actor = auth.actorOf(req);
        const state = await pause[action](req.params.cluster, actor, req.body?.reason ?? '');
        await audit.record({ actor, action: `remediation.${action}`, cluster: req.params.cluster, subject: req.params.cluster, detail: { reason: state.reason } });
        return { state };
      });
    }
  };
}
