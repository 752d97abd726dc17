// Grafana panels link to the Whistle console: a table's `cluster` column to the console's cluster
// page, its `incident_id` column to the incident's page, under the address people open Whistle at
// (server.publicUrl). Added by column name to every table panel that returns one, so a new
// dashboard gets them without asking. Without a public URL there are no such links (a link to a
// guessed host would be a wrong link).
import { expectedColumns, queryPanels, type Dashboard, type FieldOverride } from './builder.ts';

/** Column → the console page it opens and the link's title. `${__value.raw}` is the cell's value. */
const CONSOLE_PAGES: Record<string, { title: string; path: string }> = {
  cluster: { title: 'Cluster in the Whistle console', path: '/console/clusters/${__value.raw:percentencode}' },
  incident_id: { title: 'Incident in the Whistle console', path: '/console/incidents/${__value.raw:percentencode}' },
};

export function consoleLinks(d: Dashboard, publicUrl: string | undefined): Dashboard {
  if (!publicUrl) return d;
  const base = publicUrl.replace(/\/+$/, '');
  for (const panel of queryPanels(d)) {
    if (panel.type !== 'table' || !panel.fieldConfig) continue;
    for (const column of expectedColumns(panel)) {
      const page = CONSOLE_PAGES[column];
      if (!page) continue;
      const link = { title: page.title, url: `${base}${page.path}`, targetBlank: true };
      const overrides: FieldOverride[] = panel.fieldConfig.overrides;
      const existing = overrides.find((o) => o.matcher.id === 'byName' && o.matcher.options === column);
      const links = existing?.properties.find((p) => p.id === 'links');
      if (links) (links.value as unknown[]).push(link);
      else if (existing) existing.properties.push({ id: 'links', value: [link] });
      else overrides.push({ matcher: { id: 'byName', options: column }, properties: [{ id: 'links', value: [link] }] });
    }
  }
  return d;
}
