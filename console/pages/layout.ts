// The frame every console page shares: head (only same-origin CSS and JS: the CSP allows no inline
// script or style), navigation, who is signed in, sign-out, and the connection banner the live
// updates use. Small formatting helpers every page uses live here too.
import { html, type SafeHtml } from '../html.ts';

export interface PageContext {
  operator: string;
  csrf: string;
  /** The request path, for the active navigation entry. */
  path: string;
  now: number;
}

const NAV: [string, string][] = [
  ['/console/', 'Fleet'],
  ['/console/nodes', 'Nodes'],
  ['/console/silences', 'Silences'],
  ['/console/actions', 'Actions'],
];

export function csrfField(ctx: Pick<PageContext, 'csrf'>): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}

function head(title: string, extra: SafeHtml | string = ''): SafeHtml {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Whistle</title>
<link rel="stylesheet" href="/console/static/console.css">${extra}
<script src="/console/static/console.js" defer></script></head>`;
}

export function page(ctx: PageContext, title: string, body: SafeHtml, opts: { scripts?: SafeHtml } = {}): SafeHtml {
  const current = (href: string) => (href === '/console/' ? ctx.path === '/console/' || ctx.path.startsWith('/console/clusters') || ctx.path.startsWith('/console/incidents') : ctx.path.startsWith(href));
  return html`${head(title, opts.scripts ?? '')}
<body data-events="/console/events">
<header class="top">
  <a class="brand" href="/console/">Whistle</a>
  <nav>${NAV.map(([href, label]) => html`<a href="${href}"${current(href) ? html` aria-current="page"` : ''}>${label}</a>`)}</nav>
  <div class="who"><span class="operator" data-testid="operator">${ctx.operator}</span>
    <form method="post" action="/console/logout" class="inline">${csrfField(ctx)}<button type="submit" class="link">Sign out</button></form></div>
</header>
<div id="conn" class="conn" role="status" hidden>Connection to Whistle lost. Retrying…</div>
<main>${body}</main>
</body></html>`;
}

export function bare(title: string, body: SafeHtml): SafeHtml {
  return html`${head(title)}<body class="bare"><main>${body}</main></body></html>`;
}

export function ago(ts: number | null | undefined, now: number): SafeHtml {
  if (!ts) return html`<span class="muted">never</span>`;
  const s = Math.max(0, Math.round((now - ts) / 1000));
  const text = s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : s < 86400 ? `${Math.floor(s / 3600)} h ago` : `${Math.floor(s / 86400)} d ago`;
  return html`<time datetime="${new Date(ts).toISOString()}" title="${new Date(ts).toISOString()}">${text}</time>`;
}

export function at(ts: number): SafeHtml {
  const iso = new Date(ts).toISOString();
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

export function badge(kind: string, text: string = kind): SafeHtml {
  return html`<span class="badge b-${kind.replace(/[^a-z0-9_-]/gi, '')}">${text}</span>`;
}

export function pct(ratio: number | null | undefined): SafeHtml {
  if (ratio === null || ratio === undefined) return html`<span class="muted">–</span>`;
  const p = Math.round(ratio * 100);
  return html`<span class="${p >= 90 ? 'bad' : p >= 80 ? 'warn' : ''}">${p} %</span>`;
}

export function enc(s: string): string {
  return encodeURIComponent(s);
}

/** A message shown at the top of a page after a form (`?done=`), plain text. */
export function flash(text: string | undefined): SafeHtml {
  return text ? html`<p class="flash" role="status">${text}</p>` : html``;
}
