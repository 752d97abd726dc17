// Nodes: agents waiting to be authorized (authorize or refuse), the authorized ones (revoke), in
// their cluster or in the fleet's node pool (cluster "pool"), and the revoked.
import { html, type SafeHtml } from '../html.ts';
import type { NodeRow } from '../view-data.ts';
import { ago, badge, csrfField, enc, flash, page, type PageContext } from './layout.ts';

function button(ctx: PageContext, r: NodeRow, verb: 'authorize' | 'refuse' | 'revoke', label: string, cls: string): SafeHtml {
  return html`<form method="post" action="/console/nodes/${enc(r.node.home)}/${enc(r.node.node)}/${verb}" class="inline">${csrfField(ctx)}<button type="submit" class="${cls}" data-testid="${verb}-${r.node.home}-${r.node.node}">${label}</button></form>`;
}

function table(rows: SafeHtml[], empty: string): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<table class="grid"><thead><tr><th>Cluster</th><th>Node</th><th>Zone</th><th>Address</th><th>Agent</th><th>Registered</th><th>Last sample</th><th>Status</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function nodesPage(ctx: PageContext, nodes: NodeRow[], done?: string): SafeHtml {
  const row = (r: NodeRow, actions: SafeHtml) =>
    html`<tr><td><a href="/console/clusters/${enc(r.node.cluster)}">${r.node.cluster}</a></td><td>${r.node.node}</td><td>${r.node.zone || '–'}</td><td>${r.node.address || '–'}</td><td>${r.node.agentVersion || '–'}</td>
<td>${ago(r.node.registeredAt, ctx.now)}</td><td>${ago(r.lastSample, ctx.now)}</td><td>${r.node.status === 'authorized' ? (r.reporting ? badge('ready', 'reporting') : badge('stale', 'not reporting')) : badge(r.node.status)} <span class="muted">${r.node.updatedBy}</span></td><td>${actions}</td></tr>`;
  const pending = nodes.filter((n) => n.node.status === 'pending').map((r) => row(r, html`${button(ctx, r, 'authorize', 'Authorize', 'primary')} ${button(ctx, r, 'refuse', 'Refuse', 'danger')}`));
  const authorized = nodes.filter((n) => n.node.status === 'authorized').map((r) => row(r, button(ctx, r, 'revoke', 'Revoke', 'danger')));
  const revoked = nodes.filter((n) => n.node.status === 'revoked').map((r) => row(r, html``));
  const body = html`<h1>Nodes</h1>${flash(done)}
<div id="nodes-live" data-live>
<section><h2>Waiting for authorization (${pending.length})</h2>${table(pending, 'No node is waiting.')}</section>
<section><h2>Authorized (${authorized.length})</h2>${table(authorized, 'No authorized node.')}</section>
<section><h2>Revoked or refused (${revoked.length})</h2>${table(revoked, 'None.')}</section>
</div>`;
  return page(ctx, 'Nodes', body);
}
