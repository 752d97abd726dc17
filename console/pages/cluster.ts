// Cluster: its nodes (status, last sample, disk, memory), etcd members, open incidents, recent
// actions, and uPlot charts of one node's disk, memory and load (drawn by console.js from
// /console/clusters/:name/nodes/:node/series).
import { html, type SafeHtml } from '../html.ts';
import type { EtcdMember } from '../telemetry.ts';
import type { TrailEntry } from '../trail.ts';
import type { NodeRow } from '../view-data.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import type { PauseState } from '../../remediators/policy/pause.ts';
import type { ReleaseState } from '../release-state.ts';
import { releaseCell } from './fleet.ts';
import { ago, badge, enc, flash, page, pct, type PageContext } from './layout.ts';
import { type ClusterOps, detachButton, membershipSection, remediationForm, rolloutsSection } from './cluster-ops.ts';
import { incidentRows } from './incident-list.ts';
import { trailRows } from './actions.ts';

export interface ClusterView {
  name: string;
  nodes: NodeRow[];
  etcd: EtcdMember[];
  incidents: IncidentView[];
  suppressed: Set<string>;
  trail: TrailEntry[];
  pause: PauseState;
  release: ReleaseState;
  chartNode: string | undefined;
  chartHours: number;
  ops: ClusterOps;
  done?: string;
}

function nodeStatus(r: NodeRow): SafeHtml {
  if (r.node.status !== 'authorized') return badge(r.node.status);
  return r.reporting ? badge('ready', 'reporting') : badge('stale', 'not reporting');
}

export function clusterPage(ctx: PageContext, v: ClusterView): SafeHtml {
  const base = `/console/clusters/${enc(v.name)}`;
  const nodes = v.nodes.map(
    (r) => html`<tr${r.node.node === v.chartNode ? html` class="selected"` : ''}>
  <td><a href="${base}?node=${enc(r.node.node)}#charts">${r.node.node}</a></td><td>${nodeStatus(r)}</td>
  <td>${r.node.zone || html`<span class="muted">–</span>`}${r.node.role ? html` <span class="muted">${r.node.role}</span>` : ''}</td><td>${ago(r.lastSample, ctx.now)}</td>
  <td>${pct(r.metrics?.disk?.ratio)}${r.metrics?.disk ? html` <span class="muted">${r.metrics.disk.mount}</span>` : ''}</td>
  <td>${pct(r.metrics?.memory)}</td><td>${r.metrics?.load1 !== undefined && r.metrics.load1 !== null ? r.metrics.load1.toFixed(2) : html`<span class="muted">–</span>`}</td><td>${detachButton(ctx, v.name, r.node)}</td></tr>`,
  );
  const etcd = v.etcd.map((m) => html`<tr><td>${m.member}</td><td>${m.node}</td><td>${m.up ? badge('ready', 'healthy') : badge('critical', 'down')}</td><td>${m.leader ? 'leader' : ''}</td></tr>`);
  const charts = v.chartNode
    ? html`<section id="charts"><h2>${v.chartNode}: the last ${v.chartHours} h</h2>
<div class="charts" data-series="${base}/nodes/${enc(v.chartNode)}/series">
  <figure><figcaption>Disk used (fullest filesystem), %</figcaption><div class="chart" data-key="disk"></div></figure>
  <figure><figcaption>Memory used, %</figcaption><div class="chart" data-key="memory"></div></figure>
  <figure><figcaption>Load (1 min)</figcaption><div class="chart" data-key="load"></div></figure>
</div><noscript>Charts need JavaScript.</noscript></section>`
    : '';
  const body = html`<p class="crumbs"><a href="/console/">Fleet</a> /</p>
<h1>${v.name} ${v.pause.paused ? html`${badge('paused', 'remediation paused')}` : ''}</h1>
${flash(v.done)}
${v.pause.paused ? html`<p class="muted" data-testid="paused-by">Paused by ${v.pause.actor}: ${v.pause.reason}</p>` : ''}
${remediationForm(ctx, v.name, v.pause)}
<div id="cluster-live" data-live>
<p id="release">Release ${releaseCell(v.release)}${v.release.rollout?.reason ? html` <span class="muted">${v.release.rollout.reason}</span>` : ''}</p>
<section><h2>Open incidents</h2>${incidentRows(v.incidents, v.suppressed, ctx)}</section>
<section><h2>Nodes</h2>
<table class="grid" id="nodes"><thead><tr><th>Node</th><th>Status</th><th>Zone</th><th>Last sample</th><th>Disk</th><th>Memory</th><th>Load</th><th></th></tr></thead>
<tbody>${nodes.length ? nodes : html`<tr><td colspan="8" class="muted">No node registered.</td></tr>`}</tbody></table></section>
${rolloutsSection(ctx, v.name, v.ops)}
<section><h2>etcd members</h2>${
    etcd.length
      ? html`<table class="grid"><thead><tr><th>Member</th><th>Reported by</th><th>Health</th><th></th></tr></thead><tbody>${etcd}</tbody></table>`
      : html`<p class="muted">No etcd member reported in the last 2 minutes.</p>`
  }</section>
${membershipSection(ctx, v.name, v.ops)}
<section><h2>Recent actions</h2>${trailRows(v.trail, ctx)}<p><a href="/console/actions?cluster=${enc(v.name)}">All actions of ${v.name}</a></p></section>
</div>
${charts}`;
  return page(ctx, v.name, body, { scripts: html`<link rel="stylesheet" href="/console/static/uplot/uPlot.min.css"><script src="/console/static/uplot/uPlot.iife.min.js" defer></script>` });
}
