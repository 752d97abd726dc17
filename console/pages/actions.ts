// Actions: the audit trail of every remediation step and operator action, filterable.
import { html, type SafeHtml } from '../html.ts';
import type { TrailEntry, TrailFilter } from '../trail.ts';
import { at, badge, enc, page, type PageContext } from './layout.ts';

export function trailRows(entries: TrailEntry[], _ctx: PageContext): SafeHtml {
  if (entries.length === 0) return html`<p class="muted">Nothing recorded.</p>`;
  return html`<table class="grid trail"><thead><tr><th>When</th><th>Who</th><th>What</th><th>State</th><th>Cluster</th><th>Subject</th><th>Detail</th></tr></thead><tbody>${entries.map(
    (e) => html`<tr><td>${at(e.ts)}</td><td>${e.actor}</td><td>${badge(e.source === 'operator' ? 'operator' : 'remediation', e.kind)}</td><td>${e.state ? badge(e.state.split(' ')[0]!, e.state) : ''}</td>
<td>${e.cluster ? html`<a href="/console/clusters/${enc(e.cluster)}">${e.cluster}</a>` : ''}</td><td>${e.subject}</td>
<td>${e.incidentId ? html`<a href="/console/incidents/${enc(e.incidentId)}">incident</a> ` : ''}<span class="muted">${e.text.length > 160 ? `${e.text.slice(0, 160)}…` : e.text}</span></td></tr>`,
  )}</tbody></table>`;
}

export function actionsPage(ctx: PageContext, entries: TrailEntry[], f: TrailFilter, clusters: string[]): SafeHtml {
  const body = html`<h1>Actions</h1>
<form method="get" action="/console/actions" class="filters">
  <select name="cluster" aria-label="Cluster"><option value="">every cluster</option>${clusters.map((c) => html`<option${f.cluster === c ? html` selected` : ''}>${c}</option>`)}</select>
  <select name="source" aria-label="Source"><option value="">remediation and operators</option><option value="remediation"${f.source === 'remediation' ? html` selected` : ''}>remediation only</option><option value="operator"${f.source === 'operator' ? html` selected` : ''}>operators only</option></select>
  <input name="actor" value="${f.actor ?? ''}" placeholder="who" aria-label="Who">
  <input name="kind" value="${f.kind ?? ''}" placeholder="kind contains (etcd., silence, node.)" aria-label="Kind">
  <button type="submit">Filter</button>
</form>
<div id="actions-live" data-live>${trailRows(entries, ctx)}</div>`;
  return page(ctx, 'Actions', body);
}
