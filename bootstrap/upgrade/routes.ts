// The upgrade engine's operator API (Bearer operator token):
//   GET  /v1/releases                        every release, and the release each cluster runs
//   GET  /v1/releases/:name                  one release, the clusters on it, each node's reported versions
//   GET  /v1/upgrades/windows[?cluster=]     recurring windows, and whether each cluster's is open now
//   POST /v1/upgrades/windows                {cluster, days?, start, end, timeZone?, comment?}
//   PUT  /v1/upgrades/windows/:id            the same body: replaces the window
//   DELETE /v1/upgrades/windows/:id
//   POST /v1/upgrades/plan                   {cluster, release} → the plan (nothing changes)
//   POST /v1/upgrades                        {cluster, release} → 201, the rollout started
//   GET  /v1/upgrades[?cluster=]             rollouts, newest first
//   GET  /v1/upgrades/:id                    one rollout: its state, each node's phase, the window
//   POST /v1/upgrades/:id/pause|resume|abort {reason?}
import { z } from 'zod';
import type { AuditLog } from '../../core/audit.ts';
import { formatIssues } from '../../core/config/load.ts';
import { InputError } from '../../core/errors.ts';
import type { OperatorAuth } from '../../core/http/operator-auth.ts';
import type { RoutePlugin } from '../../core/stage.ts';
import type { UpgradesConfig } from './config.ts';
import type { RolloutEngine } from './engine.ts';
import { formatPlan } from './plan.ts';
import type { ReleaseCatalog } from './releases.ts';
import type { WindowStore } from './window-store.ts';

export interface UpgradeRouteDeps {
  cfg: UpgradesConfig;
  releases: ReleaseCatalog;
  windows: WindowStore;
  engine: RolloutEngine;
  clusters: () => string[];
  clock: () => number;
  auth: OperatorAuth;
  audit: AuditLog;
}

const target = z.strictObject({ cluster: z.string().min(1).max(63), release: z.string().min(1).max(63) });
const reasonBody = z.strictObject({ reason: z.string().max(1000).optional() });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new InputError(formatIssues(r.error.issues).join('; '));
  return r.data;
}

export function upgradeRoutes(d: UpgradeRouteDeps): RoutePlugin {
  const windowState = (cluster: string) => ({ cluster, ...d.windows.state(cluster, d.clock(), d.cfg.requireWindow) });
  return async (app) => {
    app.addHook('preHandler', d.auth.preHandler);

    app.get('/v1/releases', async () => ({ releases: d.releases.list(), clusters: d.releases.clusterReleases(d.clusters()) }));
    app.get<{ Params: { name: string } }>('/v1/releases/:name', async (req) => {
      const release = d.releases.get(req.params.name, 'name');
      const clusters = d.releases.clusterReleases(d.clusters()).filter((c) => c.release === release.name).map((c) => c.cluster);
      const nodes = (await Promise.all(d.clusters().map(async (cluster) => (await d.releases.nodeVersions(cluster, d.clock() - 10 * 60_000)).map((n) => ({ cluster, ...n, atRelease: Object.entries(release.components).every(([c, v]) => !(c in n.components) || n.components[c] === v) })))))
        .flat();
      return { release, clusters, nodes };
    });

    app.get<{ Querystring: { cluster?: string } }>('/v1/upgrades/windows', async (req) => {
      const clusters = req.query.cluster ? [req.query.cluster] : d.clusters();
      return { windows: d.windows.list(req.query.cluster), state: clusters.map(windowState) };
    });
    app.post('/v1/upgrades/windows', async (req, reply) => {
      const w = await d.windows.create(req.body, d.auth.actorOf(req));
      await d.audit.record({ actor: d.auth.actorOf(req), action: 'upgrades.window.create', cluster: w.cluster, subject: w.id, detail: { ...w } });
      reply.code(201);
      return { window: w, state: windowState(w.cluster) };
    });
    app.put<{ Params: { id: string } }>('/v1/upgrades/windows/:id', async (req) => {
      const w = await d.windows.replace(req.params.id, req.body, d.auth.actorOf(req));
      await d.audit.record({ actor: d.auth.actorOf(req), action: 'upgrades.window.replace', cluster: w.cluster, subject: w.id, detail: { ...w } });
      return { window: w, state: windowState(w.cluster) };
    });
    app.delete<{ Params: { id: string } }>('/v1/upgrades/windows/:id', async (req) => {
      const w = await d.windows.delete(req.params.id);
      await d.audit.record({ actor: d.auth.actorOf(req), action: 'upgrades.window.delete', cluster: w.cluster, subject: w.id });
      return { deleted: w, state: windowState(w.cluster) };
    });

    app.post('/v1/upgrades/plan', async (req) => {
      const t = parse(target, req.body);
      const plan = await d.engine.plan(t.cluster, t.release);
      return { plan, text: formatPlan(plan), window: windowState(t.cluster) };
    });
    app.post('/v1/upgrades', async (req, reply) => {
      const t = parse(target, req.body);
      const actor = d.auth.actorOf(req);
      const rollout = await d.engine.startRollout(t.cluster, t.release, actor);
      await d.audit.record({ actor, action: 'upgrades.start', cluster: t.cluster, subject: rollout.id, detail: { release: t.release } });
      reply.code(201);
      return { rollout, window: windowState(t.cluster) };
    });
    app.get<{ Querystring: { cluster?: string } }>('/v1/upgrades', async (req) => ({ rollouts: d.engine.list(req.query.cluster) }));
    app.get<{ Params: { id: string } }>('/v1/upgrades/:id', async (req) => {
      const rollout = d.engine.get(req.params.id);
      return { rollout, window: windowState(rollout.cluster) };
    });
    for (const action of ['pause', 'resume', 'abort'] as const) {
      app.post<{ Params: { id: string } }>(`/v1/upgrades/:id/${action}`, async (req) => {
        const { reason } = parse(reasonBody, req.body);
        const actor = d.auth.actorOf(req);
        const rollout = await d.engine[action](req.params.id, actor, reason);
        await d.audit.record({ actor, action: `upgrades.${action}`, cluster: rollout.cluster, subject: rollout.id, detail: { reason: reason ?? '' } });
        return { rollout };
      });
    }
  };
}
