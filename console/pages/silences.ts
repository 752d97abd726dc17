// Silences and maintenance windows: what applies now and what is scheduled, create, expire.
import { html, type SafeHtml } from '../html.ts';
import type { MaintenanceWindow, Silence } from '../../remediators/incidents/silences.ts';
import { ago, at, badge, csrfField, enc, flash, page, type PageContext } from './layout.ts';

function stateOf(x: { startsAt: number; endsAt: number; expiredBy?: string }, now: number): SafeHtml {
  if (x.endsAt <= now) return badge('expired', x.expiredBy ? `expired by ${x.expiredBy}` : 'ended');
  if (x.startsAt > now) return badge('scheduled');
  return badge('active');
}

export function silencesPage(ctx: PageContext, silences: Silence[], windows: MaintenanceWindow[], clusters: string[], done?: string): SafeHtml {
  const now = ctx.now;
  const sRows = silences.map(
    (s) => html`<tr><td>${stateOf(s, now)}</td><td>${s.matchers.map((m) => html`<code>${m.name}${m.negate ? '!' : ''}${m.regex ? '=~' : '='}${m.value}</code> `)}</td>
<td>${s.comment}</td><td>${s.createdBy}</td><td>${at(s.startsAt)}</td><td>${at(s.endsAt)}</td>
<td>${s.endsAt > now ? html`<form method="post" action="/console/silences/${enc(s.id)}/expire" class="inline">${csrfField(ctx)}<button type="submit" class="danger">Expire</button></form>` : ''}</td></tr>`,
  );
  const wRows = windows.map(
    (w) => html`<tr><td>${stateOf(w, now)}</td><td><a href="/console/clusters/${enc(w.cluster)}">${w.cluster}</a></td><td>${w.comment}</td><td>${w.createdBy}</td><td>${at(w.startsAt)}</td><td>${at(w.endsAt)}</td>
<td>${w.endsAt > now ? html`<form method="post" action="/console/maintenance/${enc(w.id)}/expire" class="inline">${csrfField(ctx)}<button type="submit" class="danger">Expire</button></form>` : ''}</td></tr>`,
  );
  const head = html`<thead><tr><th>State</th><th>Matches</th><th>Comment</th><th>By</th><th>From</th><th>Until</th><th></th></tr></thead>`;
  const body = html`<h1>Silences and maintenance windows</h1>${flash(done)}
<div class="row">
<form method="post" action="/console/silences" class="card">${csrfField(ctx)}<h3>New silence</h3>
  <label>Field <select name="name">${['cluster', 'detector', 'subject', 'severity', 'fingerprint'].map((f) => html`<option>${f}</option>`)}</select></label>
  <label>Value <input name="value" required maxlength="1024"></label>
  <label class="check"><input type="checkbox" name="regex" value="1"> regular expression</label>
  <label>For <select name="duration"><option value="3600000">1 hour</option><option value="14400000">4 hours</option><option value="86400000">1 day</option><option value="604800000">1 week</option></select></label>
  <label>Comment <input name="comment" required maxlength="2000"></label>
  <button type="submit">Create silence</button></form>
<form method="post" action="/console/maintenance" class="card">${csrfField(ctx)}<h3>New maintenance window</h3>
  <label>Cluster <select name="cluster">${clusters.map((c) => html`<option>${c}</option>`)}</select></label>
  <label>Starts (UTC) <input type="datetime-local" name="start" aria-label="start"></label>
  <label>Ends (UTC) <input type="datetime-local" name="end" required aria-label="end"></label>
  <label>Comment <input name="comment" required maxlength="2000"></label>
  <button type="submit">Create window</button></form>
</div>
<section><h2>Silences</h2>${sRows.length ? html`<table class="grid" id="silences">${head}<tbody>${sRows}</tbody></table>` : html`<p class="muted">No silence.</p>`}</section>
<section><h2>Maintenance windows</h2>${
    wRows.length
      ? html`<table class="grid" id="windows"><thead><tr><th>State</th><th>Cluster</th><th>Comment</th><th>By</th><th>From</th><th>Until</th><th></th></tr></thead><tbody>${wRows}</tbody></table>`
      : html`<p class="muted">No maintenance window.</p>`
  }</section>
<p class="muted">Times are UTC; shown ${ago(now, now)}.</p>`;
  return page(ctx, 'Silences', body);
}
