// The console's forms (POST, CSRF-checked): approve or refuse a plan, silence an incident, add a
// note, authorize / refuse / revoke a node, create and expire silences and maintenance windows.
// Each acts through the same services as the API, as the signed-in operator, and is recorded in
// the audit log under their name; then the browser is sent back to the page it came from.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InputError, NotFoundError } from '../../core/errors.ts';
import { type ConsoleContext, sessionOf } from '../context.ts';
import { field, formOf, intField, timeField } from '../form.ts';
import { checkTime } from '../../remediators/incidents/routes.ts';

const MAX_SILENCE_MS = 30 * 24 * 3600_000;
const MATCH_FIELDS = ['cluster', 'detector', 'subject', 'severity', 'fingerprint'];

function back(reply: FastifyReply, to: string) {
  return reply.redirect(to, 303);
}

export function formRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const opts = { preHandler: app.csrfProtection };
  const who = (req: FastifyRequest) => sessionOf(req).operator;
  const incidentUrl = (id: string) => `/console/incidents/${encodeURIComponent(id)}`;

  app.post<{ Params: { id: string; plan: string } }>('/console/incidents/:id/plans/:plan/approve', opts, async (req, reply) => {
    const actor = who(req);
    const plan = ctx.approvals.get(req.params.plan);
    if (plan.incidentId !== req.params.id) throw new NotFoundError(`plan ${plan.id} is not one of incident ${req.params.id}`);
    const comment = field(formOf(req.body), 'comment', { max: 1000 });
    const done = await ctx.approvals.approve(plan.id, actor, comment);
    await ctx.audit.record({ actor, action: 'plan.approve', cluster: done.cluster, subject: done.id, detail: { incidentId: done.incidentId, kind: done.kind, via: 'console' } });
    ctx.live.publish({ type: 'plan', id: done.incidentId });
    return back(reply, incidentUrl(req.params.id));
  });

  app.post<{ Params: { id: string; plan: string } }>('/console/incidents/:id/plans/:plan/reject', opts, async (req, reply) => {
    const actor = who(req);
    const plan = ctx.approvals.get(req.params.plan);
    if (plan.incidentId !== req.params.id) throw new NotFoundError(`plan ${plan.id} is not one of incident ${req.params.id}`);
    const reason = field(formOf(req.body), 'reason', { max: 1000 });
    const done = await ctx.approvals.reject(plan.id, actor, reason);
    await ctx.audit.record({ actor, action: 'plan.reject', cluster: done.cluster, subject: done.id, detail: { incidentId: done.incidentId, reason, via: 'console' } });
    ctx.live.publish({ type: 'plan', id: done.incidentId });
    return back(reply, incidentUrl(req.params.id));
  });

  app.post<{ Params: { id: string } }>('/console/incidents/:id/silence', opts, async (req, reply) => {
    const actor = who(req);
    const body = formOf(req.body);
    const incident = ctx.incidents.get(req.params.id);
    if (!incident) throw new NotFoundError(`no active incident "${req.params.id}"`);
    const duration = intField(body, 'duration', 60_000, MAX_SILENCE_MS);
    const comment = field(body, 'comment', { required: true, max: 2000 });
    const silence = await ctx.incidents.suppressions.createSilence({
      matchers: [{ name: 'fingerprint', value: incident.fingerprint }],
      endsAt: checkTime(ctx.now() + duration, 'duration'),
      comment,
      createdBy: actor,
    });
    await ctx.audit.record({ actor, action: 'silence.create', cluster: incident.cluster, subject: silence.id, detail: { incidentId: incident.id, endsAt: silence.endsAt, comment, via: 'console' } });
    await ctx.incidents.appendHistory(incident.id, { kind: 'silenced', message: `silenced until ${new Date(silence.endsAt).toISOString()}: ${comment}`, actor, detail: { silence: silence.id } });
    ctx.live.publish({ type: 'silence', id: incident.id });
    return back(reply, incidentUrl(incident.id));
  });

  app.post<{ Params: { id: string } }>('/console/incidents/:id/notes', opts, async (req, reply) => {
    const actor = who(req);
    const note = field(formOf(req.body), 'note', { required: true, max: 4000 });
    await ctx.incidents.appendHistory(req.params.id, { kind: 'note', message: note, actor });
    await ctx.audit.record({ actor, action: 'incident.note', subject: req.params.id, detail: { via: 'console' } });
    return back(reply, incidentUrl(req.params.id));
  });

  for (const [verb, status] of [
    ['authorize', 'authorized'],
    ['refuse', 'revoked'],
    ['revoke', 'revoked'],
  ] as const) {
    app.post<{ Params: { cluster: string; node: string } }>(`/console/nodes/:cluster/:node/${verb}`, opts, async (req, reply) => {
      const actor = who(req);
      const { cluster, node } = req.params;
      const existing = ctx.nodes.get(cluster, node);
      if (!existing) throw new NotFoundError(`node ${cluster}/${node} is not registered`);
      if (verb === 'refuse' && existing.status !== 'pending') throw new InputError(`node ${cluster}/${node} is ${existing.status}, not pending: revoke it instead`);
      await ctx.nodes.setStatus(cluster, node, status, actor);
      await ctx.audit.record({ actor, action: `node.${verb}`, cluster, subject: node, detail: { via: 'console' } });
      ctx.live.publish({ type: 'node', cluster });
      return back(reply, `/console/nodes?done=${encodeURIComponent(`${cluster}/${node}: ${verb === 'refuse' ? 'refused' : status}`)}`);
    });
  }

  app.post('/console/silences', opts, async (req, reply) => {
    const actor = who(req);
    const body = formOf(req.body);
    const name = field(body, 'name', { required: true, max: 128 });
    if (!MATCH_FIELDS.includes(name)) throw new InputError(`name: one of ${MATCH_FIELDS.join(', ')}`);
    const value = field(body, 'value', { required: true, max: 1024 });
    const regex = field(body, 'regex', { max: 1 }) === '1';
    const duration = intField(body, 'duration', 60_000, MAX_SILENCE_MS);
    const comment = field(body, 'comment', { required: true, max: 2000 });
    const silence = await ctx.incidents.suppressions.createSilence({ matchers: [{ name, value, ...(regex ? { regex } : {}) }], endsAt: ctx.now() + duration, comment, createdBy: actor });
    await ctx.audit.record({ actor, action: 'silence.create', subject: silence.id, detail: { matchers: silence.matchers, endsAt: silence.endsAt, comment, via: 'console' } });
    ctx.live.publish({ type: 'silence' });
    return back(reply, `/console/silences?done=${encodeURIComponent(`silence ${silence.id} created`)}`);
  });

  app.post<{ Params: { id: string } }>('/console/silences/:id/expire', opts, async (req, reply) => {
    const actor = who(req);
    const silence = await ctx.incidents.suppressions.expireSilence(req.params.id, actor);
    await ctx.audit.record({ actor, action: 'silence.expire', subject: silence.id, detail: { via: 'console' } });
    ctx.live.publish({ type: 'silence' });
    return back(reply, `/console/silences?done=${encodeURIComponent(`silence ${silence.id} expired`)}`);
  });

  app.post('/console/maintenance', opts, async (req, reply) => {
    const actor = who(req);
    const body = formOf(req.body);
    const cluster = field(body, 'cluster', { required: true, max: 63 });
    if (!ctx.views.clusterNames().includes(cluster)) throw new InputError(`cluster: no cluster "${cluster}"`);
    const startsAt = checkTime(timeField(body, 'start', false) ?? ctx.now(), 'start');
    const endsAt = checkTime(timeField(body, 'end', true)!, 'end');
    const comment = field(body, 'comment', { required: true, max: 2000 });
    const w = await ctx.incidents.suppressions.createMaintenance({ cluster, startsAt, endsAt, comment, createdBy: actor });
    await ctx.audit.record({ actor, action: 'maintenance.create', cluster, subject: w.id, detail: { startsAt, endsAt, comment, via: 'console' } });
    ctx.live.publish({ type: 'silence', cluster });
    return back(reply, `/console/silences?done=${encodeURIComponent(`maintenance window ${w.id} created`)}`);
  });

  app.post<{ Params: { id: string } }>('/console/maintenance/:id/expire', opts, async (req, reply) => {
    const actor = who(req);
    const w = await ctx.incidents.suppressions.expireMaintenance(req.params.id, actor);
    await ctx.audit.record({ actor, action: 'maintenance.expire', cluster: w.cluster, subject: w.id, detail: { via: 'console' } });
    ctx.live.publish({ type: 'silence', cluster: w.cluster });
    return back(reply, `/console/silences?done=${encodeURIComponent(`maintenance window ${w.id} expired`)}`);
  });
}
