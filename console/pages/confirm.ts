// The pages between a question and its answer: what a change would do (the engine's or the
// fleet's own dry run, the same text the API answers) with the button that does it, and what a
// change did (the new cluster's join token, shown this once; the attach's preflight).
import type { ChangeResult } from '../../bootstrap/fleet/fleet.ts';
import type { Placement } from '../../bootstrap/fleet/placement.ts';
import { formatPlan as formatFleetPlan } from '../../bootstrap/etcd/plan.ts';
import type { UpgradePlan } from '../../bootstrap/upgrade/plan.ts';
import { html, type SafeHtml } from '../html.ts';
import { badge, csrfField, enc, page, type PageContext } from './layout.ts';

function crumbs(cluster: string): SafeHtml {
  return html`<p class="crumbs"><a href="/console/">Fleet</a> / <a href="/console/clusters/${enc(cluster)}">${cluster}</a> /</p>`;
}

export function upgradePlanPage(ctx: PageContext, cluster: string, plan: UpgradePlan, text: string): SafeHtml {
  const refused = plan.refusals.length > 0;
  const body = html`${crumbs(cluster)}<h1>Upgrade ${cluster} to ${plan.release}</h1>
<div class="plan"><h2>The plan (nothing has changed yet)</h2><pre data-testid="upgrade-plan">${text}</pre>
${refused ? html`<p class="bad" data-testid="refusals">Whistle refuses to start it: ${plan.refusals.map((r) => `${r.reason}: ${r.message}`).join('; ')}</p>` : ''}
<form method="post" action="/console/clusters/${enc(cluster)}/upgrade" class="bar">${csrfField(ctx)}<input type="hidden" name="release" value="${plan.release}">
<button type="submit" class="primary" data-testid="start-rollout"${refused ? html` disabled` : ''}>Start the rollout</button> <a href="/console/clusters/${enc(cluster)}">Cancel</a></form></div>`;
  return page(ctx, `Upgrade ${cluster}`, body);
}

function hidden(name: string, values: string[]): SafeHtml[] {
  return values.map((v) => html`<input type="hidden" name="${name}" value="${v}">`);
}

export function fleetPlanPage(ctx: PageContext, r: ChangeResult, nodes: string[], role?: string): SafeHtml {
  const verb = r.op === 'attach' ? 'Attach' : 'Detach';
  const body = html`${crumbs(r.cluster)}<h1>${verb} ${nodes.join(', ')}${role ? ` as ${role}` : ''}</h1>
<div class="plan"><h2>The plan (dry run: nothing has changed)</h2><pre data-testid="fleet-plan">${formatFleetPlan(r.plan)}</pre>
${r.op === 'attach' ? html`<p class="muted">The preflight runs first on every node at once; if one check fails, nothing changes.</p>` : ''}
<form method="post" action="/console/clusters/${enc(r.cluster)}/${r.op}" class="bar">${csrfField(ctx)}<input type="hidden" name="step" value="do">${hidden('nodes', nodes)}${role ? hidden('role', [role]) : ''}
<button type="submit" class="primary" data-testid="fleet-confirm">${verb}</button> <a href="/console/clusters/${enc(r.cluster)}">Cancel</a></form></div>`;
  return page(ctx, `${verb} on ${r.cluster}`, body);
}

export function fleetDonePage(ctx: PageContext, r: ChangeResult): SafeHtml {
  const checks = r.preflight?.checks ?? [];
  const body = html`${crumbs(r.cluster)}<h1>${r.plan.summary}</h1>
<p class="flash" role="status" data-testid="fleet-done">${r.changed ? 'Done.' : 'Nothing to do.'}</p>
${r.preflight ? html`<h2>Preflight (${r.preflight.ok ? 'passed' : 'failed'}, ${r.preflight.durationMs} ms)</h2>
<table class="grid" data-testid="preflight"><thead><tr><th>Node</th><th>Check</th><th>Target</th><th>Result</th></tr></thead><tbody>${checks.map((c) => html`<tr><td>${c.node}</td><td>${c.check}</td><td>${c.target}</td><td>${c.ok ? badge('ready', 'ok') : badge('failed')} ${c.message}</td></tr>`)}</tbody></table>` : ''}
${r.notes?.length ? html`<ul>${r.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}
<p><a href="/console/clusters/${enc(r.cluster)}">Back to ${r.cluster}</a></p>`;
  return page(ctx, r.cluster, body);
}

export function newClusterPage(ctx: PageContext, input: { name: string; controlPlane: string }, placement: Placement | null, checked: boolean): SafeHtml {
  const preview = checked
    ? html`<div class="plan"><h2>Dry run: nothing has changed</h2>
<p>A cluster <strong>${input.name}</strong> would be created${placement ? html`, with ${placement.nodes.length} control-plane node(s) from the pool: <strong data-testid="placement">${placement.nodes.join(', ')}</strong> in zone(s) ${placement.zones.map((z) => z || '(none)').join(', ')}` : ' with no node yet'}.</p>
${placement?.note ? html`<p class="warn">${placement.note}</p>` : ''}
<form method="post" action="/console/new-cluster" class="bar">${csrfField(ctx)}<input type="hidden" name="name" value="${input.name}"><input type="hidden" name="controlPlane" value="${input.controlPlane}">
<button type="submit" class="primary" data-testid="create-cluster">Create ${input.name}</button></form></div>`
    : '';
  const body = html`<p class="crumbs"><a href="/console/">Fleet</a> /</p><h1>New cluster</h1>
<form method="get" action="/console/new-cluster" class="card">
<label>Name <input name="name" value="${input.name}" maxlength="63" required data-testid="cluster-name"></label>
<label>Control-plane nodes from the pool (optional, 1 to 7; placed across zones) <input name="controlPlane" value="${input.controlPlane}" inputmode="numeric" maxlength="1" data-testid="cluster-cp"></label>
<button type="submit" data-testid="cluster-dry-run">Check (dry run)</button></form>
${preview}`;
  return page(ctx, 'New cluster', body);
}

export function clusterCreatedPage(ctx: PageContext, name: string, joinToken: string, attach: ChangeResult | null, attachError: string | undefined): SafeHtml {
  const body = html`<p class="crumbs"><a href="/console/">Fleet</a> /</p><h1>${name} created</h1>
<div class="plan"><h2>Its join token: shown this once</h2>
<p>Agents of ${name} register with it (<code>agent.joinToken</code>). Copy it now: Whistle keeps only its hash; a new one can be made later (<code>whistle clusters join-token ${name}</code>), which ends this one.</p>
<pre data-testid="join-token">${joinToken}</pre></div>
${attach ? html`<p>${attach.plan.summary}: ${attach.changed ? 'done' : 'nothing to do'}.</p>` : ''}
${attachError ? html`<p class="bad" role="alert">${attachError}</p>` : ''}
<p><a href="/console/clusters/${enc(name)}">Go to ${name}</a></p>`;
  return page(ctx, `${name} created`, body);
}
