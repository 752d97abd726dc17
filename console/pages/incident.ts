// Incident: summary, evidence, the whole timeline (transitions, findings, actions with their
// before/after record, notifications and deliveries, notes), and the forms that fit its state:
// approve or refuse a plan awaiting approval (showing it), silence for a while, add a note.
import { html, type SafeHtml } from '../html.ts';
import type { IncidentPage } from '../view-data.ts';
import { ago, at, badge, csrfField, enc, page, type PageContext } from './layout.ts';

interface Line {
  ts: number;
  kind: string;
  title: SafeHtml | string;
  actor: string;
  detail?: SafeHtml;
}

function json(v: unknown): SafeHtml {
  return html`<pre class="json">${JSON.stringify(v, null, 2)}</pre>`;
}

function detailOf(d: Record<string, unknown>): SafeHtml | undefined {
  return Object.keys(d).length ? html`<details><summary>detail</summary>${json(d)}</details>` : undefined;
}

/** Every source of the incident's story as one list, oldest first. */
export function timelineLines(v: IncidentPage): Line[] {
  const lines: Line[] = [];
  for (const h of v.history) {
    const title = h.kind === 'state_changed' ? html`state ${String(h.detail.from ?? '')} → ${badge(h.state, h.state.replace('_', ' '))}: ${h.reason}` : html`${h.reason}`;
    lines.push({ ts: h.ts, kind: h.kind, title, actor: h.actor, ...(detailOf(h.detail) ? { detail: detailOf(h.detail)! } : {}) });
  }
  for (const a of v.actions) {
    const before = (a.detail as { before?: unknown }).before;
    const after = (a.detail as { after?: unknown }).after;
    const rest = Object.fromEntries(Object.entries(a.detail).filter(([k]) => k !== 'before' && k !== 'after'));
    lines.push({
      ts: a.ts,
      kind: 'action',
      title: html`${a.kind} ${badge(a.state)}${a.dryRun ? html` ${badge('dry', 'dry run')}` : ''}: ${a.reason}`,
      actor: a.actor,
      detail: html`${before !== undefined ? html`<details><summary>before</summary>${json(before)}</details>` : ''}${after !== undefined ? html`<details><summary>after</summary>${json(after)}</details>` : ''}${detailOf(rest) ?? ''}`,
    });
  }
  for (const [source, entries] of Object.entries(v.more)) {
    for (const e of entries as Record<string, unknown>[]) {
      const ts = Number(e.ts ?? 0);
      const title =
        source === 'notifications'
          ? html`${String(e.channel ?? '')} ${String(e.kind ?? '')} ${badge(String(e.status ?? ''))}${Number(e.attempt ?? 0) > 1 ? html` (attempt ${String(e.attempt)})` : ''}${e.error ? html`: ${String(e.error)}` : ''}`
          : html`${source}: ${JSON.stringify(e)}`;
      lines.push({ ts, kind: source === 'notifications' ? 'delivery' : source, title, actor: 'whistle' });
    }
  }
  return lines.sort((a, b) => a.ts - b.ts);
}

function planForms(ctx: PageContext, v: IncidentPage): SafeHtml {
  const waiting = v.plans.filter((p) => p.state === 'awaiting_approval');
  const others = v.plans.filter((p) => p.state !== 'awaiting_approval');
  return html`${waiting.map(
    (p) => html`<section class="plan" id="plan-${p.id}"><h2>Plan awaiting approval: ${p.kind}</h2>
<pre class="plan-text">${p.text}</pre>
<div class="row">
<form method="post" action="/console/incidents/${enc(v.incident.id)}/plans/${enc(p.id)}/approve">${csrfField(ctx)}
  <input name="comment" placeholder="Comment (optional)" maxlength="1000" aria-label="Approval comment"><button type="submit" class="primary" data-testid="approve">Approve plan</button></form>
<form method="post" action="/console/incidents/${enc(v.incident.id)}/plans/${enc(p.id)}/reject">${csrfField(ctx)}
  <input name="reason" placeholder="Why not" maxlength="1000" aria-label="Refusal reason"><button type="submit" class="danger" data-testid="reject">Refuse plan</button></form>
</div></section>`,
  )}${others.map((p) => html`<section class="plan"><h2>Plan ${p.kind} ${badge(p.state)}</h2><p class="muted">${p.reason} (${p.actor}, ${ago(p.updatedAt, ctx.now)})</p><details><summary>the plan</summary><pre class="plan-text">${p.text}</pre></details></section>`)}`;
}

export function incidentPage(ctx: PageContext, v: IncidentPage): SafeHtml {
  const i = v.incident;
  const id = enc(i.id);
  const resolved = i.state === 'resolved';
  const lines = timelineLines(v);
  const actionsForm = resolved
    ? html`<p class="muted">Resolved ${ago(i.resolvedAt, ctx.now)}.</p>`
    : html`<div class="row">
<form method="post" action="/console/incidents/${id}/silence" class="card">${csrfField(ctx)}<h3>Silence this incident</h3>
  <label>For <select name="duration">${[
    ['3600000', '1 hour'],
    ['14400000', '4 hours'],
    ['86400000', '1 day'],
    ['604800000', '1 week'],
  ].map(([ms, l]) => html`<option value="${ms}">${l}</option>`)}</select></label>
  <label>Comment <input name="comment" required maxlength="2000" placeholder="why, and who is on it"></label>
  <button type="submit" data-testid="silence">Silence</button></form>
<form method="post" action="/console/incidents/${id}/notes" class="card">${csrfField(ctx)}<h3>Add a note</h3>
  <textarea name="note" required maxlength="4000" rows="3" aria-label="Note"></textarea>
  <button type="submit" data-testid="add-note">Add note</button></form></div>`;
  const body = html`<p class="crumbs"><a href="/console/">Fleet</a> / <a href="/console/clusters/${enc(i.cluster)}">${i.cluster}</a> /</p>
<div id="incident-live" data-live>
<h1>${badge(i.severity)} ${i.summary}</h1>
<p class="facts"><span data-testid="state">${badge(i.state, i.state.replace('_', ' '))}</span>
${v.suppressedBy ? html`<span data-testid="silenced">${badge('silenced', v.suppressedBy.kind === 'silence' ? 'silenced' : 'in maintenance')} <span class="muted">${v.suppressedBy.comment}</span></span>` : ''}
<span>cluster <a href="/console/clusters/${enc(i.cluster)}">${i.cluster}</a></span> <span>subject ${i.subject}</span> <span>detector ${i.detector}</span>
<span>opened ${ago(i.openedAt, ctx.now)}</span> <span>updated ${ago(i.updatedAt, ctx.now)}</span> <span class="muted">${i.id}</span></p>
${planForms(ctx, v)}
<section><h2>Evidence</h2>${json(i.evidence)}${Object.keys(i.labels).length ? html`<p class="muted">labels: ${Object.entries(i.labels).map(([k, val]) => `${k}=${val}`).join(', ')}</p>` : ''}</section>
<section><h2>Timeline</h2><ol class="timeline" id="timeline">${lines.map(
    (l) => html`<li class="t-${l.kind.replace(/[^a-z0-9_-]/gi, '')}"><span class="when">${at(l.ts)}</span> <span class="kind">${l.kind}</span> <span class="what">${l.title}</span> <span class="actor">${l.actor}</span>${l.detail ?? ''}</li>`,
  )}</ol></section>
<section><h2>Findings</h2><p class="muted">${v.findings.length} finding(s) attached, newest first.</p>${v.findings.slice(0, 5).map((f) => html`<details><summary>${String((f as { summary?: string }).summary ?? '')}</summary>${json(f)}</details>`)}</section>
</div>
<section><h2>Act</h2>${actionsForm}</section>`;
  return page(ctx, i.summary, body);
}
