// Operator API for incidents, silences and maintenance windows (operator token required).
//   GET    /v1/incidents            ?cluster&detector&severity&state&active&limit
//   GET    /v1/incidents/:id        incident + findings + history (transitions, notes, deliveries) + actions + notifications
//   POST   /v1/silences             { matchers, endsAt | durationMs, startsAt?, comment }
//   GET    /v1/silences             ?active
//   DELETE /v1/silences/:id         expire now
//   POST   /v1/maintenance          { cluster, start, end, comment }
//   GET    /v1/maintenance          ?active&cluster
//   DELETE /v1/maintenance/:id      expire now
import type { FastifyPluginAsync } from 'fastify';
import type { AuditLog } from '../../core/audit.ts';
import { InputError } from '../../core/errors.ts';
import type { OperatorAuth } from '../../core/http/operator-auth.ts';
import type { IncidentManager } from './manager.ts';
import type { Matcher } from './silences.ts';
import type { IncidentTimeline } from './timeline.ts';

export interface IncidentRoutesDeps {
  manager: IncidentManager;
  timeline: IncidentTimeline;
  auth: OperatorAuth;
  audit: AuditLog;
}

const timeValue = { anyOf: [{ type: 'string', minLength: 1, maxLength: 64 }, { type: 'integer', minimum: 0 }] };

/** The last instant the store's DateTime64 columns hold (2299-12-31); later ones it cannot write. */
const LAST_STORABLE_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999);

/** Refuses a time the store cannot hold: 1e20, or Infinity (the integer schema passes 1e309). */
export function checkTime(ms: number, field: string): number {
  if (!Number.isFinite(ms) || ms < 0 || ms > LAST_STORABLE_MS) throw new InputError(`${field}: must be between 1970 and 2299 (epoch ms 0 to ${LAST_STORABLE_MS})`);
  return ms;
}

/** Accepts epoch milliseconds or an ISO-8601 date; names the field when it is neither. */
export function parseTime(v: string | number | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return checkTime(v, field);
  if (/^\d+$/.test(v)) return checkTime(Number(v), field);
  // A date starts with its year: Date.parse alone also takes "-1" (as the year 2001) and "1 2 3".
  const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw new InputError(`${field}: not a date (use ISO 8601, e.g. 2026-01-31T18:00:00Z, or epoch milliseconds)`);
  return checkTime(ms, field);
}

const matcherSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'value'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 128 },
    value: { type: 'string', maxLength: 1024 },
    regex: { type: 'boolean' },
    negate: { type: 'boolean' },
  },
};

export function incidentRoutes(deps: IncidentRoutesDeps): FastifyPluginAsync {
  return async (app) => {
    app.addHook('preHandler', deps.auth.preHandler);
    const { manager, audit } = deps;
    const actorOf = deps.auth.actorOf;

    app.get<{ Querystring: { cluster?: string; detector?: string; severity?: string; state?: string; active?: boolean; limit?: number } }>(
      '/v1/incidents',
      {
        schema: {
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              cluster: { type: 'string', maxLength: 63 },
              detector: { type: 'string', maxLength: 128 },
              severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
              state: { type: 'string', enum: ['open', 'remediating', 'awaiting_approval', 'escalated', 'resolved'] },
              active: { type: 'boolean' },
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            },
          },
        },
      },
      async (req) => {
        const incidents = await manager.list(req.query);
        return { incidents: incidents.map((i) => ({ ...i, suppressedBy: manager.suppressedBy(i) })) };
      },
    );

    app.get<{ Params: { id: string } }>('/v1/incidents/:id', async (req) => {
      const shown = await manager.show(req.params.id);
      const actions = await manager.actions(req.params.id);
      // `notifications` stays present when no channel stage runs, so clients need not check.
      const more = await deps.timeline.collect(req.params.id);
      return { ...shown, actions, notifications: [], ...more, suppressedBy: manager.suppressedBy(shown.incident) };
    });

    app.post<{ Body: { matchers: Matcher[]; startsAt?: string | number; endsAt?: string | number; durationMs?: number; comment: string } }>(
      '/v1/silences',
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['matchers', 'comment'],
            properties: {
              matchers: { type: 'array', minItems: 1, maxItems: 32, items: matcherSchema },
              startsAt: timeValue,
              endsAt: timeValue,
              durationMs: { type: 'integer', minimum: 1000 },
              comment: { type: 'string', minLength: 1, maxLength: 2000 },
            },
          },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const startsAt = parseTime(b.startsAt, 'body.startsAt');
        let endsAt = parseTime(b.endsAt, 'body.endsAt');
        if (endsAt === undefined && b.durationMs !== undefined) endsAt = checkTime((startsAt ?? Date.now()) + b.durationMs, 'body.durationMs');
        if (endsAt === undefined) throw new InputError('body.endsAt: required (or body.durationMs)');
        const actor = actorOf(req);
        const silence = await manager.suppressions.createSilence({ matchers: b.matchers, endsAt, comment: b.comment, createdBy: actor, ...(startsAt !== undefined ? { startsAt } : {}) });
        await audit.record({ actor, action: 'silence.create', subject: silence.id, detail: { matchers: silence.matchers, endsAt: silence.endsAt, comment: silence.comment } });
        return reply.code(201).send({ silence });
      },
    );

    app.get<{ Querystring: { active?: boolean } }>(
      '/v1/silences',
      { schema: { querystring: { type: 'object', additionalProperties: false, properties: { active: { type: 'boolean' } } } } },
      async (req) => ({ silences: manager.suppressions.listSilences({ activeOnly: req.query.active ?? false }) }),
    );

    app.delete<{ Params: { id: string } }>('/v1/silences/:id', async (req) => {
      const actor = actorOf(req);
      const silence = await manager.suppressions.expireSilence(req.params.id, actor);
      await audit.record({ actor, action: 'silence.expire', subject: silence.id });
      return { silence };
    });

    app.post<{ Body: { cluster: string; start?: string | number; end: string | number; comment: string } }>(
      '/v1/maintenance',
      {
        schema: {
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['cluster', 'end', 'comment'],
            properties: { cluster: { type: 'string', minLength: 1, maxLength: 63 }, start: timeValue, end: timeValue, comment: { type: 'string', minLength: 1, maxLength: 2000 } },
          },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const actor = actorOf(req);
        const window = await manager.suppressions.createMaintenance({
          cluster: b.cluster,
          startsAt: parseTime(b.start, 'body.start') ?? Date.now(),
          endsAt: parseTime(b.end, 'body.end')!,
          comment: b.comment,
          createdBy: actor,
        });
        await audit.record({ actor, action: 'maintenance.create', cluster: window.cluster, subject: window.id, detail: { startsAt: window.startsAt, endsAt: window.endsAt, comment: window.comment } });
        return reply.code(201).send({ maintenance: window });
      },
    );

    app.get<{ Querystring: { active?: boolean; cluster?: string } }>(
      '/v1/maintenance',
      { schema: { querystring: { type: 'object', additionalProperties: false, properties: { active: { type: 'boolean' }, cluster: { type: 'string', maxLength: 63 } } } } },
      async (req) => ({ maintenance: manager.suppressions.listMaintenance({ activeOnly: req.query.active ?? false, ...(req.query.cluster ? { cluster: req.query.cluster } : {}) }) }),
    );

    app.delete<{ Params: { id: string } }>('/v1/maintenance/:id', async (req) => {
      const actor = actorOf(req);
      const window = await manager.suppressions.expireMaintenance(req.params.id, actor);
      await audit.record({ actor, action: 'maintenance.expire', cluster: window.cluster, subject: window.id });
      return { maintenance: window };
    });
  };
}
