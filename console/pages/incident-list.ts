// A table of incidents (cluster page, fleet details).
import { html, type SafeHtml } from '../html.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { ago, badge, enc, type PageContext } from './layout.ts';

export function incidentRows(list: IncidentView[], suppressed: Set<string>, ctx: PageContext): SafeHtml {
  if (list.length === 0) return html`<p class="ok">No open incident.</p>`;
  return html`<table class="grid incidents"><thead><tr><th>Severity</th><th>State</th><th>Subject</th><th>Summary</th><th>Opened</th></tr></thead><tbody>${list.map(
    (i) => html`<tr><td>${badge(i.severity)}</td><td>${badge(i.state, i.state.replace('_', ' '))}${suppressed.has(i.id) ? html` ${badge('silenced')}` : ''}</td>
<td>${i.subject}</td><td><a href="/console/incidents/${enc(i.id)}">${i.summary}</a></td><td>${ago(i.openedAt, ctx.now)}</td></tr>`,
  )}</tbody></table>`;
}
