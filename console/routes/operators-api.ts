// Operator accounts for the console, for admins (operator token):
//   GET    /v1/operators                     names, when and by whom each was last changed
//   POST   /v1/operators {name, password}    add
//   POST   /v1/operators/:name/password {password}   set a new password (ends their sessions)
//   DELETE /v1/operators/:name               remove (ends their sessions)
import type { AuditLog } from '../../core/audit.ts';
import type { OperatorAuth } from '../../core/http/operator-auth.ts';
import type { RoutePlugin } from '../../core/stage.ts';
import type { ConsoleOperators } from '../operators.ts';

const password = { type: 'string', minLength: 1, maxLength: 1024 };

export function operatorApiRoutes(deps: { operators: ConsoleOperators; auth: OperatorAuth; audit: AuditLog }): RoutePlugin {
  const { operators, auth, audit } = deps;
  return async (app) => {
    app.addHook('preHandler', auth.preHandler);
    app.get('/v1/operators', async () => ({ operators: operators.list() }));
    app.post<{ Body: { name: string; password: string } }>(
      '/v1/operators',
      { schema: { body: { type: 'object', additionalProperties: false, required: ['name', 'password'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 }, password } } } },
      async (req, reply) => {
        const actor = auth.actorOf(req);
        const operator = await operators.add(req.body.name, req.body.password, actor);
        await audit.record({ actor, action: 'operator.add', subject: operator.name });
        return reply.code(201).send({ operator });
      },
    );
    app.post<{ Params: { name: string }; Body: { password: string } }>(
      '/v1/operators/:name/password',
      { schema: { body: { type: 'object', additionalProperties: false, required: ['password'], properties: { password } } } },
      async (req) => {
        const actor = auth.actorOf(req);
        const operator = await operators.setPassword(req.params.name, req.body.password, actor);
        await audit.record({ actor, action: 'operator.passwd', subject: operator.name });
        return { operator };
      },
    );
    app.delete<{ Params: { name: string } }>('/v1/operators/:name', async (req) => {
      const actor = auth.actorOf(req);
      const operator = await operators.remove(req.params.name, actor);
      await audit.record({ actor, action: 'operator.remove', subject: operator.name });
      return { operator };
    });
  };
}
