// What the console's routes share: its parts and the services of the stages it shows.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AuditLog } from '../core/audit.ts';
import type { ServerConfig } from '../core/config/schema.ts';
import type { NodeRegistry } from '../ingest/node-registry.ts';
import type { IncidentManager } from '../remediators/incidents/manager.ts';
import type { Approvals } from '../remediators/policy/approvals.ts';
import type { ClusterCatalog } from '../core/clusters/catalog.ts';
import type { Fleet } from '../bootstrap/fleet/fleet.ts';
import type { RolloutEngine } from '../bootstrap/upgrade/engine.ts';
import type { ReleaseCatalog } from '../bootstrap/upgrade/releases.ts';
import type { RemediationPause } from '../remediators/policy/pause.ts';
import type { ConsoleConfig } from './config.ts';
import type { SignInThrottle } from './throttle.ts';
import type { LiveHub } from './live.ts';
import type { ConsoleOperators } from './operators.ts';
import type { PageContext } from './pages/layout.ts';
import type { ConsoleSessions, Session } from './sessions.ts';
import type { ConsoleViews } from './view-data.ts';

export interface ConsoleContext {
  config: ConsoleConfig;
  server: ServerConfig;
  secret: string;
  sessions: ConsoleSessions;
  operators: ConsoleOperators;
  views: ConsoleViews;
  live: LiveHub;
  incidents: IncidentManager;
  approvals: Approvals;
  nodes: NodeRegistry;
  pause: RemediationPause;
  releases: ReleaseCatalog;
  rollouts: RolloutEngine;
  fleet: Fleet;
  catalog: ClusterCatalog;
  throttle: SignInThrottle;
  audit: AuditLog;
  log: Logger;
  now: () => number;
}

export const SESSION_COOKIE = 'whistle_session';

declare module 'fastify' {
  interface FastifyRequest {
    consoleSession: Session | null;
  }
}

/** The session a request carries; routes behind the sign-in hook always have one. */
export function sessionOf(req: FastifyRequest): Session {
  if (!req.consoleSession) throw new Error('console route reached without a session');
  return req.consoleSession;
}

export function pageContext(req: FastifyRequest, reply: FastifyReply, ctx: ConsoleContext): PageContext {
  const s = sessionOf(req);
  return { operator: s.operator, csrf: reply.generateCsrf({ userInfo: s.idHash }), path: req.url.split('?')[0]!, now: ctx.now() };
}
