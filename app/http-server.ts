// The management plane's HTTP server: fastify with the shared validator and error mapping
// (core/http/), and one plugin per route group from the stages that serve routes.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ServerConfig } from '../core/config/schema.ts';
import { installErrorHandler } from '../core/http/http-errors.ts';
import { validatorCompiler } from '../core/http/validators.ts';
import type { RoutePlugin } from '../core/stage.ts';

export async function buildServer(server: ServerConfig, log: Logger, routes: RoutePlugin[]): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
    // One log line per request would cost more than the request at agent rates.
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies are validated against strict schemas and never merged into other objects, so the
    // prototype-poisoning scan (a regex over every body) buys nothing on the hot path.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    bodyLimit: server.bodyLimitBytes,
    // Agents send bursts; keep sockets open between batches.
    keepAliveTimeout: 65_000,
    // On stop, do not wait for long polls (agent task polls wait up to 20 s); a request cut off
    // this way was not acknowledged and its sender retries.
    forceCloseConnections: true,
  });
  app.setValidatorCompiler(validatorCompiler);
  installErrorHandler(app);
  for (const plugin of routes) await app.register(plugin);
  return app;
}
