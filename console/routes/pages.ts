// The console's pages (GET, server-rendered) and the JSON its charts and live updates read.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { NotFoundError } from '../../core/errors.ts';
import type { SafeHtml } from '../html.ts';
import { type ConsoleContext, pageContext, sessionOf } from '../context.ts';
import { actionsPage } from '../pages/actions.ts';
import { clusterPage } from '../pages/cluster.ts';
import type { ClusterOps } from '../pages/cluster-ops.ts';
import { fleetPage, type FleetFilter } from '../pages/fleet.ts';
import { incidentPage } from '../pages/incident.ts';
import { nodesPage } from '../pages/nodes.ts';
import { silencesPage } from '../pages/silences.ts';

const FILTERS: FleetFilter[] = ['all', 'incidents', 'critical', 'paused', 'degraded', 'upgrading'];

function send(reply: FastifyReply, page: SafeHtml) {
  return reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page.html);
}

function str(v: unknown, max = 200): string {
  return typeof v === 'string' ? v.slice(0, max) : '';
}

export function pageRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  const { views } = ctx;

  app.get('/console', async (_req, reply) => reply.redirect('/console/', 301));

  app.get<{ Querystring: { q?: string; show?: string; done?: string } }>('/console/', async (req, reply) => {
    const show = FILTERS.includes(req.query.show as FleetFilter) ? (req.query.show as FleetFilter) : 'all';
    return send(reply, fleetPage(pageContext(req, reply, ctx), await views.fleet(), { q: str(req.query.q), show }, str(req.query.done)));
  });

  app.get<{ Params: { name: string }; Querystring: { node?: string; done?: string } }>('/console/clusters/:name', async (req, reply) => {
    const name = req.params.name;
    const c = await views.cluster(name);
    if (!c.known) throw new NotFoundError(`no cluster "${name}"`);
    const worstNode = c.nodes.find((n) => (n.metrics?.disk?.ratio ?? 0) >= 0.8) ?? c.nodes.find((n) => n.metrics) ?? c.nodes[0];
    const chartNode = c.nodes.find((n) => n.node.node === req.query.node)?.node.node ?? worstNode?.node.node;
    const suppressed = new Set(c.incidents.filter((i) => views.suppressedBy(i)).map((i) => i.id));
    const ops: ClusterOps = {
      rollouts: ctx.rollouts.list(name),
      releases: ctx.releases.list().map((r) => r.name),
      pool: await ctx.fleet.available(),
      inCatalog: ctx.catalog.has(name),
      declared: ctx.catalog.isDeclared(name),
      current: c.release.release,
      liveNodes: c.nodes.filter((n) => n.node.status !== 'revoked').length,
    };
    return send(reply, clusterPage(pageContext(req, reply, ctx), { name, ...c, suppressed, chartNode, chartHours: ctx.config.chartHours, ops, done: str(req.query.done) }));
  });

  app.get<{ Params: { name: string; node: string } }>('/console/clusters/:name/nodes/:node/series', async (req, reply) => {
    if (!ctx.nodes.get(req.params.name, req.params.node)) throw new NotFoundError(`no node ${req.params.name}/${req.params.node}`);
    const series = await views.telemetry.series(req.params.name, req.params.node, ctx.config.chartHours);
    return reply.header('cache-control', 'no-store').send(series);
  });

  app.get<{ Params: { id: string } }>('/console/incidents/:id', async (req, reply) => {
    return send(reply, incidentPage(pageContext(req, reply, ctx), await views.incident(req.params.id)));
  });

  app.get<{ Querystring: { done?: string } }>('/console/nodes', async (req, reply) => send(reply, nodesPage(pageContext(req, reply, ctx), await views.nodesPage(), str(req.query.done))));

  app.get<{ Querystring: { done?: string } }>('/console/silences', async (req, reply) => {
    const s = ctx.incidents.suppressions;
    return send(reply, silencesPage(pageContext(req, reply, ctx), s.listSilences(), s.listMaintenance(), views.clusterNames(), str(req.query.done)));
  });

  app.get<{ Querystring: { cluster?: string; actor?: string; kind?: string; source?: string } }>('/console/actions', async (req, reply) => {
    const q = req.query;
    const source = q.source === 'remediation' || q.source === 'operator' ? q.source : '';
    const f = { cluster: str(q.cluster, 63), actor: str(q.actor, 128), kind: str(q.kind, 128), source, limit: 300 } as const;
    return send(reply, actionsPage(pageContext(req, reply, ctx), await views.trail(f), f, views.clusterNames()));
  });

  // Server-sent events: see live.ts. The stream is written directly (it never ends on its own).
  app.get('/console/events', async (req, reply) => {
    const s = sessionOf(req);
    reply.hijack();
    ctx.live.attach(reply.raw, s.idHash);
  });
}
