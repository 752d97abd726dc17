// The management plane's HTTP server: fastify with the shared validator and error mapping
// (core/http/), and one plugin per route group from the stages that serve routes. With server.tls
// it serves HTTPS (bootstrap/pki/plane-tls.ts) and refuses client certificates that do not verify.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { planeTls } from '../bootstrap/pki/plane-tls.ts';
import type { ServerConfig } from '../core/config/schema.ts';
import { refuseInvalidClientCert } from '../core/http/client-cert.ts';
import { clientErrorHandler, errorHandler, installErrorHandler } from '../core/http/http-errors.ts';
import { installJsonBodyParser } from '../core/http/json-body.ts';
import { validatorCompiler } from '../core/http/validators.ts';
import type { RoutePlugin } from '../core/stage.ts';

export async function buildServer(server: ServerConfig, log: Logger, routes: RoutePlugin[]): Promise<FastifyInstance> {
  const tls = await planeTls(server);
  const app = Fastify({
    // Every client is asked for a certificate, none is required at the TLS layer (tokens alone
    // still register and operate); one that is presented is checked by refuseInvalidClientCert.
    ...(tls && { https: { key: tls.key, cert: tls.cert, ca: tls.clientCa, requestCert: true, rejectUnauthorized: false } }),
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
    // A URL the router cannot decode ("%zz") or a parameter over its length limit, and what Node's
    // HTTP parser refuses (headers over 16 KiB), answered like every other error: {error, code}.
    frameworkErrors: errorHandler(),
    clientErrorHandler,
  }) as unknown as FastifyInstance; // typed for an https server when tls is set; nothing here or in the routes depends on which

  if (tls) app.addHook('onRequest', refuseInvalidClientCert);
  app.setValidatorCompiler(validatorCompiler);
  installJsonBodyParser(app);
  installErrorHandler(app);
  for (const plugin of routes) await app.register(plugin);
  return app;
}
