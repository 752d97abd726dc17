// The console as one encapsulated fastify scope: cookies, form bodies, security headers (a strict
// CSP: no inline script or style, only this origin) and CSRF protection apply to /console/ only,
// never to the agents' and operators' JSON API beside it.
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyError, FastifyInstance } from 'fastify';
import { WhistleError } from '../../core/errors.ts';
import type { RoutePlugin } from '../../core/stage.ts';
import { STATIC_DIR, UPLOT_DIR } from '../assets.ts';
import type { ConsoleContext } from '../context.ts';
import { errorPage } from '../pages/login.ts';
import { clusterFormRoutes } from './cluster-forms.ts';
import { formRoutes } from './forms.ts';
import { pageRoutes } from './pages.ts';
import { ANONYMOUS, installSessionHook, sessionRoutes } from './session.ts';

function statusOf(err: FastifyError | WhistleError): { status: number; message: string } {
  if (err instanceof WhistleError) return { status: err.httpStatus, message: err.message };
  if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
    return { status: 403, message: 'This form did not come from your console session (missing or stale CSRF token). Reload the page and try again.' };
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return { status: err.statusCode, message: err.message };
  return { status: 500, message: 'Something failed inside Whistle; the server log has the details.' };
}

export function consoleRoutes(ctx: ConsoleContext): RoutePlugin {
  return async (root) => {
    await root.register(async (app: FastifyInstance) => {
      await app.register(cookie);
      await app.register(formbody, { bodyLimit: 64 * 1024 });
      await app.register(helmet, {
        contentSecurityPolicy: {
          useDefaults: false,
          directives: {
            defaultSrc: ["'none'"],
            scriptSrc: ["'self'"],
            styleSrc: ["'self'"],
            imgSrc: ["'self'", 'data:'],
            connectSrc: ["'self'"],
            fontSrc: ["'self'"],
            formAction: ["'self'"],
            frameAncestors: ["'none'"],
            baseUri: ["'none'"],
            objectSrc: ["'none'"],
            ...(ctx.server.tls.enabled ? { upgradeInsecureRequests: [] } : {}),
          },
        },
        hsts: ctx.server.tls.enabled ? { maxAge: 31536000 } : false,
        referrerPolicy: { policy: 'same-origin' },
        crossOriginEmbedderPolicy: false,
      });
      await app.register(csrf, {
        sessionPlugin: '@fastify/cookie',
        cookieKey: 'whistle_csrf',
        cookieOpts: { path: '/console', httpOnly: true, sameSite: 'strict', secure: ctx.server.tls.enabled },
        csrfOpts: { hmacKey: ctx.secret },
        getUserInfo: (req) => req.consoleSession?.idHash ?? ANONYMOUS,
      });
      await app.register(fastifyStatic, { root: STATIC_DIR, prefix: '/console/static/', index: false, maxAge: '1h' });
      await app.register(fastifyStatic, { root: UPLOT_DIR, prefix: '/console/static/uplot/', decorateReply: false, index: false, maxAge: '1d', allowedPath: (p) => /^\/uPlot\.(iife\.min\.js|min\.css)$/.test(p) });

      app.setErrorHandler((err: FastifyError, req, reply) => {
        const { status, message } = statusOf(err);
        if (status >= 500) req.log.error({ err, url: req.url }, 'console request failed');
        return reply.code(status).type('text/html; charset=utf-8').send(errorPage(status, message, Boolean(req.consoleSession)).html);
      });
      installSessionHook(app, ctx);
      sessionRoutes(app, ctx);
      pageRoutes(app, ctx);
      formRoutes(app, ctx);
      clusterFormRoutes(app, ctx);
      // Anything else under /console/ (signed in: the hook refused the rest) is a page that does not exist.
      app.all('/console/*', async (req, reply) => reply.code(404).type('text/html; charset=utf-8').send(errorPage(404, `No page ${req.url.split('?')[0]}`, true).html));
    });
  };
}
