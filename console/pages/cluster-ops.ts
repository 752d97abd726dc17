// The cluster page's operations: pause or resume remediation, the cluster's rollouts (pause,
// resume, abort; start one of a release after seeing its plan), attaching pool nodes, detaching
// nodes, deleting the cluster once it is empty. Each form posts to routes/cluster-forms.ts.
import type { Rollout } from '../../bootstrap/upgrade/rollout-store.ts';
import { ACTIVE_STATES } from '../../bootstrap/upgrade/rollout-store.ts';
import type { FleetNodeView } from '../../bootstrap/fleet/fleet.ts';
import type { PauseState } from '../../remediators/policy/pause.ts';
import { POOL } from '../../core/clusters/pool.ts';
import { html, type SafeHtml } from '../html.ts';
import { ago, badge, csrfField, enc, type PageContext } from './layout.ts';

export interface ClusterOps {
  rollouts: Rollout[];
  releases: string[];
  /** Authorized pool nodes in no cluster: what can be attached. */
  pool: FleetNodeView[];
  /** Created through the fleet or configured (only those can be deleted or take nodes). */
  inCatalog: boolean;
  /** Declared in clusters[] of the config file: deleted there, not here. */
  declared: boolean;
  /** The release it runs, not offered first for an upgrade. */
  current: string | null;
  /** Registered nodes that are not revoked: a cluster with any cannot be deleted. */
  liveNodes: number;
}

export function remediationForm(ctx: PageContext, cluster: string, pause: PauseState): SafeHtml {
  const base = `/console/clusters/${enc(cluster)}/remediation`;
  return pause.paused
    ? html`<form method="post" action="${base}/resume" class="bar" id="remediation">${csrfField(ctx)}
<span>Remediation is paused: Whistle proposes nothing and acts on nothing in ${cluster}.</span>
<input name="reason" maxlength="1000" placeholder="why resume (optional)" aria-label="Reason to resume">
<button type="submit" class="primary" data-testid="remediation-resume">Resume remediation</button></form>`
    : html`<form method="post" action="${base}/pause" class="bar" id="remediation">${csrfField(ctx)}
<input name="reason" maxlength="1000" placeholder="why pause (required)" aria-label="Reason to pause" required>
<button type="submit" class="danger" data-testid="remediation-pause">Pause remediation</button></form>`;
}

function rolloutRow(ctx: PageContext, r: Rollout): SafeHtml {
  const done = r.nodes.filter((n) => n.phase === 'done').length;
  const failed = r.nodes.filter((n) => n.phase === 'failed').map((n) => n.node);
  const base = `/console/rollouts/${enc(r.id)}`;
  const can = { pause: r.state === 'running' || r.state === 'waiting', resume: r.state === 'paused' || r.state === 'failed', abort: ACTIVE_STATES.includes(r.state) };
  const buttons = can.abort
    ? html`<form method="post" action="${base}/abort" class="inline">${csrfField(ctx)}<input name="reason" maxlength="1000" placeholder="reason (optional)" aria-label="Reason">
${can.pause ? html`<button type="submit" formaction="${base}/pause" data-testid="rollout-pause">Pause</button>` : ''}
${can.resume ? html`<button type="submit" formaction="${base}/resume" class="primary" data-testid="rollout-resume">Resume</button>` : ''}
<button type="submit" class="danger" data-testid="rollout-abort">Abort</button></form>`
    : '';
  return html`<tr data-rollout="${r.id}"><td>${r.id}</td><td>${r.fromRelease ?? '?'} → ${r.release}</td><td data-testid="rollout-state">${badge(r.state)}</td>
<td>${done} / ${r.nodes.length}${failed.length ? html` <span class="bad">failed: ${failed.join(', ')}</span>` : ''}</td><td class="muted">${r.reason}</td><td>${r.createdBy}, ${ago(r.createdAt, ctx.now)}</td><td>${buttons}</td></tr>`;
}

export function rolloutsSection(ctx: PageContext, cluster: string, ops: ClusterOps): SafeHtml {
  const active = ops.rollouts.some((r) => ACTIVE_STATES.includes(r.state));
  // The newest release the cluster does not run yet comes preselected (releases are listed oldest first).
  const firstOffer = [...ops.releases].reverse().find((r) => r !== ops.current);
  const start = ops.releases.length
    ? html`<form method="get" action="/console/clusters/${enc(cluster)}/upgrade" class="bar">
<label>Release <select name="release" data-testid="release">${ops.releases.map((r) => html`<option value="${r}"${r === firstOffer ? html` selected` : ''}>${r}${r === ops.current ? ' (running now)' : ''}</option>`)}</select></label>
<button type="submit"${active ? html` disabled title="a rollout is in progress: resume or abort it first"` : ''} data-testid="show-plan">Show the upgrade plan</button></form>`
    : html`<p class="muted">No release is configured (upgrades.releases).</p>`;
  const rows = ops.rollouts.slice(0, 10).map((r) => rolloutRow(ctx, r));
  return html`<section id="rollouts"><h2>Rollouts</h2>
${rows.length ? html`<table class="grid"><thead><tr><th>Rollout</th><th>Release</th><th>State</th><th>Nodes done</th><th>Why</th><th>Started</th><th></th></tr></thead><tbody>${rows}</tbody></table>` : html`<p class="muted">No rollout yet.</p>`}
${start}</section>`;
}

export function membershipSection(ctx: PageContext, cluster: string, ops: ClusterOps): SafeHtml {
  if (!ops.inCatalog) return html``;
  const base = `/console/clusters/${enc(cluster)}`;
  const attach = ops.pool.length
    ? html`<form method="post" action="${base}/attach" class="bar">${csrfField(ctx)}<input type="hidden" name="step" value="plan">
<label>Pool nodes <select name="nodes" multiple size="${Math.min(5, ops.pool.length)}" data-testid="attach-nodes">${ops.pool.map((n) => html`<option value="${n.node}">${n.node}${n.zone ? ` (${n.zone})` : ''}</option>`)}</select></label>
<label>Role <select name="role" data-testid="attach-role"><option value="worker">worker</option><option value="control-plane">control-plane</option></select></label>
<button type="submit" data-testid="attach-plan">Show the attach plan</button></form>`
    : html`<p class="muted">No authorized node is waiting in the pool.</p>`;
  const del = ops.declared
    ? html`<p class="muted" data-testid="declared">${cluster} is declared in clusters[] of the config file: it is deleted there, not here.</p>`
    : ops.liveNodes === 0
      ? html`<form method="post" action="${base}/delete" class="bar">${csrfField(ctx)}<label>Type the name to delete <input name="confirm" required aria-label="Cluster name to confirm"></label>
<button type="submit" class="danger" data-testid="delete-cluster">Delete ${cluster}</button></form>`
      : html`<p class="muted">Deleting ${cluster} needs it empty: detach its pool nodes or revoke its nodes first.</p>`;
  return html`<section id="membership"><h2>Nodes from the pool</h2>${attach}${del}</section>`;
}

/** The detach button of one node row (to its dry run first): only pool nodes can go back to the pool. */
export function detachButton(ctx: PageContext, cluster: string, node: { node: string; home: string; status: string }): SafeHtml {
  if (node.home !== POOL || node.status === 'revoked') return html``;
  return html`<form method="post" action="/console/clusters/${enc(cluster)}/detach" class="inline">${csrfField(ctx)}<input type="hidden" name="nodes" value="${node.node}"><input type="hidden" name="step" value="plan"><button type="submit" data-testid="detach-${node.node}">Detach…</button></form>`;
}
