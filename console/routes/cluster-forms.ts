// The cluster operations of the console (forms POST with CSRF, their dry runs and plans): pause
// and resume remediation; pause, resume and abort a rollout, show a release's upgrade plan and
// start it; create a cluster (dry run of its placement first, its join token shown once), delete
// an empty one; attach pool nodes and detach them (dry run first). Each goes through the service
// the API uses (remediation pause, the rollout engine, the fleet), as the signed-in operator, and
// is recorded in the audit log under their name with detail.via = "console", as the API records it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AttachRole } from '../../bootstrap/fleet/fleet.ts';
import { formatPlan } from '../../bootstrap/upgrade/plan.ts';
import { InputError, NotFoundError } from '../../core/errors.ts';
import type { SafeHtml } from '../html.ts';
import { type ConsoleContext, pageContext, sessionOf } from '../context.ts';
import { field, formOf, listField } from '../form.ts';
import { clusterCreatedPage, fleetDonePage, fleetPlanPage, newClusterPage, upgradePlanPage } from '../pages/confirm.ts';

const ROLES: AttachRole[] = ['control-plane', 'worker'];

function send(reply: FastifyReply, page: SafeHtml, status = 200) {
  return reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page.html);
}

/** A control-plane count as the form gives it: empty for none, else 1 to 7 (as the API's schema). */
function controlPlaneOf(s: string): number | undefined {
  if (s === '') return undefined;
  if (!/^\d+$/.test(s)) throw new InputError('controlPlane: not a whole number');
  const n = Number(s);
  if (n < 1 || n > 7) throw new InputError('controlPlane: must be between 1 and 7');
  return n;
}

export function clusterFormRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const opts = { preHandler: app.csrfProtection };
  const who = (req: FastifyRequest) => sessionOf(req).operator;
  const clusterUrl = (name: string, done?: string) => `/console/clusters/${encodeURIComponent(name)}${done ? `?done=${encodeURIComponent(done)}` : ''}`;
  const known = (name: string) => {
    if (!ctx.views.clusterNames().includes(name)) throw new NotFoundError(`no cluster "${name}"`);
  };

  // ---- remediation pause -----------------------------------------------------------------------

  for (const verb of ['pause', 'resume'] as const) {
    app.post<{ Params: { name: string } }>(`/console/clusters/:name/remediation/${verb}`, opts, async (req, reply) => {
      const actor = who(req);
      const cluster = req.params.name;
      known(cluster);
      // Pausing stops every remediation of a cluster: the console asks why, for the next shift.
      const reason = field(formOf(req.body), 'reason', { required: verb === 'pause', max: 1000 });
      const state = await ctx.pause[verb](cluster, actor, reason);
      await ctx.audit.record({ actor, action: `remediation.${verb}`, cluster, subject: cluster, detail: { reason: state.reason, via: 'console' } });
      ctx.live.publish({ type: 'cluster', cluster });
      return reply.redirect(clusterUrl(cluster, `remediation ${verb === 'pause' ? 'paused' : 'resumed'}`), 303);
    });
  }

  // ---- rollouts --------------------------------------------------------------------------------

  for (const verb of ['pause', 'resume', 'abort'] as const) {
    app.post<{ Params: { id: string } }>(`/console/rollouts/:id/${verb}`, opts, async (req, reply) => {
      const actor = who(req);
      const reason = field(formOf(req.body), 'reason', { max: 1000 });
      const rollout = await ctx.rollouts[verb](req.params.id, actor, reason);
      await ctx.audit.record({ actor, action: `upgrades.${verb}`, cluster: rollout.cluster, subject: rollout.id, detail: { reason, via: 'console' } });
      ctx.live.publish({ type: 'cluster', cluster: rollout.cluster });
      return reply.redirect(clusterUrl(rollout.cluster, `rollout ${rollout.id}: ${rollout.state}`), 303);
    });
  }

  app.get<{ Params: { name: string }; Querystring: { release?: string } }>('/console/clusters/:name/upgrade', async (req, reply) => {
    const cluster = req.params.name;
    known(cluster);
    const release = typeof req.query.release === 'string' ? req.query.release.trim() : '';
    if (!release) throw new InputError('release: required');
    const plan = await ctx.rollouts.plan(cluster, release);
    return send(reply, upgradePlanPage(pageContext(req, reply, ctx), cluster, plan, formatPlan(plan)));
  });

  app.post<{ Params: { name: string } }>('/console/clusters/:name/upgrade', opts, async (req, reply) => {
    const actor = who(req);
    const cluster = req.params.name;
    known(cluster);
    const release = field(formOf(req.body), 'release', { required: true, max: 63 });
    const rollout = await ctx.rollouts.startRollout(cluster, release, actor);
    await ctx.audit.record({ actor, action: 'upgrades.start', cluster, subject: rollout.id, detail: { release, via: 'console' } });
    ctx.live.publish({ type: 'cluster', cluster });
    return reply.redirect(clusterUrl(cluster, `rollout ${rollout.id} of ${release} started`), 303);
  });

  // ---- clusters --------------------------------------------------------------------------------

  app.get<{ Querystring: { name?: string; controlPlane?: string } }>('/console/new-cluster', async (req, reply) => {
    const name = typeof req.query.name === 'string' ? req.query.name.trim().slice(0, 253) : '';
    const cp = typeof req.query.controlPlane === 'string' ? req.query.controlPlane.trim().slice(0, 20) : '';
    const pctx = pageContext(req, reply, ctx);
    if (!name) return send(reply, newClusterPage(pctx, { name, controlPlane: cp }, null, false));
    const r = await ctx.fleet.create({ name }, { controlPlane: controlPlaneOf(cp), dryRun: true, actor: who(req) });
    return send(reply, newClusterPage(pctx, { name, controlPlane: cp }, r.placement, true));
  });

  app.post('/console/new-cluster', opts, async (req, reply) => {
    const actor = who(req);
    const body = formOf(req.body);
    const name = field(body, 'name', { required: true, max: 253 });
    const controlPlane = controlPlaneOf(field(body, 'controlPlane', { max: 20 }));
    const r = await ctx.fleet.create({ name }, { controlPlane, actor });
    await ctx.audit.record({ actor, action: 'cluster.create', cluster: name, subject: name, detail: { kubeAccess: false, controlPlane: controlPlane ?? 0, via: 'console' } });
    ctx.live.publish({ type: 'cluster', cluster: name });
    // Answered here, not redirected: this page is the one place the join token is shown.
    return send(reply, clusterCreatedPage(pageContext(req, reply, ctx), r.cluster!.name, r.joinToken!, r.attach, r.attachError), 201);
  });

  app.post<{ Params: { name: string } }>('/console/clusters/:name/delete', opts, async (req, reply) => {
    const actor = who(req);
    const name = req.params.name;
    const confirm = field(formOf(req.body), 'confirm', { required: true, max: 253 });
    if (confirm !== name) throw new InputError(`confirm: type the cluster's name, "${name}", to delete it`);
    const cluster = await ctx.fleet.deleteCluster(name, actor);
    await ctx.audit.record({ actor, action: 'cluster.delete', cluster: cluster.name, subject: cluster.name, detail: { via: 'console' } });
    ctx.live.publish({ type: 'cluster', cluster: cluster.name });
    return reply.redirect(`/console/?done=${encodeURIComponent(`cluster ${cluster.name} deleted`)}`, 303);
  });

  // ---- attach and detach (step=plan: the dry run; step=do: the change) -------------------------

  const stepOf = (body: ReturnType<typeof formOf>) => {
    const step = field(body, 'step', { required: true, max: 8 });
    if (step !== 'plan' && step !== 'do') throw new InputError('step: plan or do');
    return step;
  };

  app.post<{ Params: { name: string } }>('/console/clusters/:name/attach', opts, async (req, reply) => {
    const actor = who(req);
    const cluster = req.params.name;
    const body = formOf(req.body);
    const step = stepOf(body);
    const nodes = listField(body, 'nodes', { max: 64, maxLength: 253 });
    const role = field(body, 'role', { required: true, max: 16 }) as AttachRole;
    if (!ROLES.includes(role)) throw new InputError('role: control-plane or worker');
    const r = await ctx.fleet.attach(cluster, nodes, role, { dryRun: step === 'plan', actor });
    if (step === 'plan') return send(reply, fleetPlanPage(pageContext(req, reply, ctx), r, nodes, role));
    await ctx.audit.record({ actor, action: 'cluster.attach', cluster, subject: nodes.join(','), detail: { role, via: 'console' } });
    ctx.live.publish({ type: 'node', cluster });
    return send(reply, fleetDonePage(pageContext(req, reply, ctx), r));
  });

  app.post<{ Params: { name: string } }>('/console/clusters/:name/detach', opts, async (req, reply) => {
    const actor = who(req);
    const cluster = req.params.name;
    const body = formOf(req.body);
    const step = stepOf(body);
    const nodes = listField(body, 'nodes', { max: 64, maxLength: 253 });
    const r = await ctx.fleet.detach(cluster, nodes, { dryRun: step === 'plan', actor });
    if (step === 'plan') return send(reply, fleetPlanPage(pageContext(req, reply, ctx), r, nodes));
    await ctx.audit.record({ actor, action: 'cluster.detach', cluster, subject: nodes.join(','), detail: { via: 'console' } });
    ctx.live.publish({ type: 'node', cluster });
    return send(reply, fleetDonePage(pageContext(req, reply, ctx), r));
  });
}
