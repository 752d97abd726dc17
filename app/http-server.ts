// The management plane's HTTP server: fastify with one plugin per route group, all sharing the app
// context. Later route groups (incidents, silences, approvals, the Kubernetes proxy) register the
// same way through `extraRoutes`.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../app/context.ts';
import { classify, installErrorHandler } from './http-errors.ts';
import type { RejectReason } from './metrics.ts';
import { healthRoutes } from './routes/health.ts';
import { nodeRoutes } from './routes/nodes.ts';
import { registrationRoutes } from './routes/registration.ts';
import { sampleRoutes } from './routes/samples.ts';
import { telemetryRoutes } from './routes/telemetry.ts';
import { validatorCompiler } from './validators.ts';

export type RoutePlugin = FastifyPluginAsync<{ ctx: AppContext }>;

function rejectReason(err: Error, status: number): RejectReason | null {
  if (status === 413) return 'too_large';
  if (status === 429 || status === 401 || status === 403) return null; // counted where they happen
  const { body } = classify(err);
  if (body.code === 'WHISTLE_MALFORMED_JSON' || body.code === 'WHISTLE_UNSUPPORTED_MEDIA_TYPE') return 'invalid_json';
  if (/must NOT have more than \d+ items/.test(body.error)) return 'too_many_samples';
  if ((err as { validation?: unknown }).validation) return 'invalid_schema';
  return null;
}

export async function buildServer(ctx: AppContext, extraRoutes: RoutePlugin[] = []): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log.child({ component: 'http' }) as FastifyBaseLogger,
    // One log line per request would cost more than the request at agent rates.
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies are validated against strict schemas and never merged into other objects, so the
    // prototype-poisoning scan (a regex over every body) buys nothing on the hot path.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    bodyLimit: ctx.config.server.bodyLimitBytes,
    // Agents send bursts; keep sockets open between batches.
    keepAliveTimeout: 65_000,
    // On stop, do not wait for long polls (agent task polls wait up to 20 s); a request cut off
    // this way was not acknowledged and its sender retries.
    forceCloseConnections: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  installErrorHandler(app, (req, err, status) => {
    if (req.routeOptions.url !== '/v1/telemetry') return;
    const reason = rejectReason(err, status);
    if (reason) ctx.metrics.rejected.inc({ reason });
  });
  for (const plugin of [healthRoutes, registrationRoutes, telemetryRoutes, nodeRoutes, sampleRoutes, ...extraRoutes]) {
    await app.register(plugin, { ctx });
  }
  return app;
}
