// Signing in and out, and the hook that admits only requests with a live session: a page asked
// for without one is sent to the sign-in page, anything else is refused 401.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tokensEqual } from '../../core/http/tokens.ts';
import type { ConsoleContext } from '../context.ts';
import { SESSION_COOKIE, sessionOf } from '../context.ts';
import { field, formOf, safeNext } from '../form.ts';
import { errorPage, loginPage } from '../pages/login.ts';
import type { Session } from '../sessions.ts';

const OPEN = ['/console/login', '/console/static/'];

/** Token sessions last while the token's name is configured; password ones while the operator exists. */
function stillValid(ctx: ConsoleContext, s: Session): boolean {
  return s.via === 'token' ? ctx.server.operatorTokens.some((t) => t.name === s.operator) : ctx.operators.has(s.operator);
}

export function installSessionHook(app: FastifyInstance, ctx: ConsoleContext): void {
  app.decorateRequest('consoleSession', null);
  app.addHook('onRequest', async (req, reply) => {
    const session = ctx.sessions.get(req.cookies[SESSION_COOKIE]);
    req.consoleSession = session && stillValid(ctx, session) ? session : null;
    const path = req.url.split('?')[0]!;
    if (OPEN.some((p) => path === p || (p.endsWith('/') && path.startsWith(p)))) return;
    if (req.consoleSession) return;
    if (req.method === 'GET' && !path.endsWith('/events') && !path.endsWith('/series')) {
      return reply.redirect(`/console/login?next=${encodeURIComponent(req.url)}`, 303);
    }
    return reply.code(401).type('text/html; charset=utf-8').send(errorPage(401, 'Not signed in (no session, or it ended or expired).', false).html);
  });
}

function cookieOptions(ctx: ConsoleContext) {
  return { path: '/console', httpOnly: true, sameSite: 'strict' as const, secure: ctx.server.tls.enabled, maxAge: Math.floor(ctx.config.sessionTtlMs / 1000) };
}

export const ANONYMOUS = 'anonymous';

function showLogin(reply: FastifyReply, next: string, error?: string, status = 200) {
  const csrf = reply.generateCsrf({ userInfo: ANONYMOUS });
  return reply.code(status).type('text/html; charset=utf-8').send(loginPage(csrf, next, error).html);
}

export function sessionRoutes(app: FastifyInstance, ctx: ConsoleContext): void {
  app.get<{ Querystring: { next?: string } }>('/console/login', async (req, reply) => {
    if (req.consoleSession) return reply.redirect(safeNext(req.query.next ?? '/console/'), 303);
    return showLogin(reply, safeNext(req.query.next ?? '/console/'));
  });

  app.post('/console/login', { preHandler: app.csrfProtection }, async (req: FastifyRequest, reply) => {
    const body = formOf(req.body);
    const next = safeNext(field(body, 'next', { max: 2000 }) || '/console/');
    const token = field(body, 'token', { max: 1024 });
    const name = field(body, 'name', { max: 64 });
    const password = field(body, 'password', { max: 1024 });
    let operator: string | null = null;
    const via: Session['via'] = token ? 'token' : 'password';
    // A token attempt has no name: only its address is counted.
    const who = token ? '' : name;
    const verdict = ctx.throttle.check(who, req.ip);
    if (verdict.refused) {
      req.log.warn({ name: who, address: req.ip, over: verdict.over }, 'console sign-in throttled');
      reply.header('retry-after', String(verdict.retryAfterSeconds));
      const minutes = Math.ceil(verdict.retryAfterSeconds / 60);
      const what = verdict.over.includes('name') ? 'for this name' : 'from this address';
      return showLogin(reply, next, `Too many failed sign-ins ${what}: try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`, 429);
    }
    if (token) {
      operator = ctx.server.operatorTokens.find((t) => tokensEqual(t.token, token))?.name ?? null;
    } else if (name && password) {
      operator = await ctx.operators.verify(name, password);
    }
    if (!operator) {
      ctx.throttle.failed(who, req.ip);
      const throttled = ctx.throttle.check(who, req.ip).refused;
      await ctx.audit.record({ actor: name || 'unknown', action: 'console.signin_refused', detail: { via, address: req.ip, ...(throttled ? { throttledNow: true } : {}) } });
      return showLogin(reply, next, token ? 'Unknown operator token.' : 'Wrong name or password.', 401);
    }
    if (who) ctx.throttle.succeeded(who);
    const { id } = await ctx.sessions.create(operator, via);
    await ctx.audit.record({ actor: operator, action: 'console.signin', detail: { via } });
    reply.setCookie(SESSION_COOKIE, id, cookieOptions(ctx));
    return reply.redirect(next, 303);
  });

  app.post('/console/logout', { preHandler: app.csrfProtection }, async (req, reply) => {
    const s = sessionOf(req);
    await ctx.sessions.end(s);
    ctx.live.endSession(s.idHash);
    await ctx.audit.record({ actor: s.operator, action: 'console.signout' });
    reply.clearCookie(SESSION_COOKIE, { path: '/console' });
    return reply.redirect('/console/login', 303);
  });
}
