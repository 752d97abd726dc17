// Fleet: every cluster at a glance, worst first, with a filter and a search (server-side, so it
// works without script; console.js narrows the rows as one types).
import { html, type SafeHtml } from '../html.ts';
import type { ReleaseState } from '../release-state.ts';
import type { ClusterSummary } from '../view-data.ts';
import { badge, enc, flash, page, type PageContext } from './layout.ts';

export type FleetFilter = 'all' | 'incidents' | 'critical' | 'paused' | 'degraded' | 'upgrading';

export interface FleetQuery {
  q: string;
  show: FleetFilter;
}

export function filterFleet(clusters: ClusterSummary[], q: FleetQuery): ClusterSummary[] {
  const needle = q.q.trim().toLowerCase();
  return clusters.filter((c) => {
    if (needle && !c.name.toLowerCase().includes(needle) && !c.worst.some((i) => `${i.subject} ${i.summary} ${i.detector}`.toLowerCase().includes(needle))) return false;
    const open = c.incidents.critical + c.incidents.warning + c.incidents.info;
    switch (q.show) {
      case 'incidents':
        return open > 0;
      case 'critical':
        return c.incidents.critical > 0;
      case 'paused':
        return c.pause.paused;
      case 'degraded':
        return open > 0 || c.nodes.reporting < c.nodes.total || c.etcd.healthy < c.etcd.total || c.release.rollout?.state === 'failed';
      case 'upgrading':
        return c.release.rollout !== null;
      default:
        return true;
    }
  });
}

function counts(c: ClusterSummary): SafeHtml {
  const parts = (['critical', 'warning', 'info'] as const).filter((s) => c.incidents[s] > 0).map((s) => badge(s, `${c.incidents[s]} ${s}`));
  if (parts.length === 0) return html`<span class="ok">none</span>`;
  return html`${parts}${c.silenced > 0 ? html` <span class="muted">(${c.silenced} silenced)</span>` : ''}`;
}

/** The release it runs and, while one is under way, the rollout's target and state. */
export function releaseCell(r: ReleaseState): SafeHtml {
  const now = r.release ?? html`<span class="muted">–</span>`;
  if (!r.rollout) return html`${now}`;
  return html`${now} → ${r.rollout.release} ${badge(r.rollout.state, `rollout ${r.rollout.state}`)}`;
}

function ratio(a: number, b: number): SafeHtml {
  if (b === 0) return html`<span class="muted">–</span>`;
  return html`<span class="${a < b ? 'bad' : 'ok'}">${a} / ${b}</span>`;
}

export function fleetPage(ctx: PageContext, all: ClusterSummary[], q: FleetQuery, done?: string): SafeHtml {
  const shown = filterFleet(all, q);
  const opts: [FleetFilter, string][] = [
    ['all', 'all clusters'],
    ['degraded', 'anything wrong'],
    ['incidents', 'with open incidents'],
    ['critical', 'with critical incidents'],
    ['paused', 'remediation paused'],
    ['upgrading', 'with a rollout under way'],
  ];
  const rows = shown.map(
    (c) => html`<tr data-search="${c.name} ${c.worst.map((i) => `${i.subject} ${i.summary} ${i.detector}`).join(' ')}">
  <td><a href="/console/clusters/${enc(c.name)}">${c.name}</a></td>
  <td>${counts(c)}</td>
  <td class="worst">${c.worst.map((i) => html`<a href="/console/incidents/${enc(i.id)}">${badge(i.severity)} ${i.summary}</a>`)}</td>
  <td>${ratio(c.nodes.reporting, c.nodes.total)}${c.nodes.pending ? html` <a class="muted" href="/console/nodes">+${c.nodes.pending} pending</a>` : ''}</td>
  <td>${ratio(c.etcd.healthy, c.etcd.total)}</td>
  <td>${releaseCell(c.release)}</td>
  <td>${c.pause.paused ? html`${badge('paused')} <span class="muted">by ${c.pause.actor}</span>` : html`<span class="muted">active</span>`}</td>
</tr>`,
  );
  const body = html`<h1>Fleet <a class="action" href="/console/new-cluster" data-testid="new-cluster">New cluster</a></h1>${flash(done)}
<form method="get" action="/console/" class="filters" id="fleet-filter">
  <input type="search" name="q" value="${q.q}" placeholder="Search clusters, nodes, incidents" aria-label="Search" data-filter-rows="#fleet tbody tr">
  <select name="show" aria-label="Show">${opts.map(([v, label]) => html`<option value="${v}"${q.show === v ? html` selected` : ''}>${label}</option>`)}</select>
  <button type="submit">Filter</button>
</form>
<div id="fleet-live" data-live>
<p class="muted">${shown.length} of ${all.length} clusters, worst first.</p>
<table id="fleet" class="grid">
<thead><tr><th>Cluster</th><th>Open incidents</th><th>Worst</th><th>Nodes reporting</th><th>etcd healthy</th><th>Release</th><th>Remediation</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="7" class="muted">No cluster matches.</td></tr>`}</tbody>
</table></div>`;
  return page(ctx, 'Fleet', body);
}
