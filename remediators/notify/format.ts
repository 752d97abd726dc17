// Plain-text rendering shared by channels: what, where, since when, evidence, link.
import type { IncidentView } from '../../core/pipeline.ts';

export function severityTag(i: IncidentView): string {
  return i.state === 'resolved' ? 'RESOLVED' : i.severity.toUpperCase();
}

export function title(i: IncidentView): string {
  return `[${severityTag(i)}] ${i.cluster}: ${i.detector} on ${i.subject}`;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

function value(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 300 ? `${s.slice(0, 297)}...` : s;
}

/** Evidence as "key: value" lines, at most `max` of them. */
export function evidenceLines(i: IncidentView, max = 12): string[] {
  const entries = Object.entries(i.evidence);
  const lines = entries.slice(0, max).map(([k, v]) => `${k}: ${value(v)}`);
  if (entries.length > max) lines.push(`(${entries.length - max} more)`);
  return lines;
}

export function where(i: IncidentView): string {
  const labels = Object.entries(i.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `cluster ${i.cluster}, ${i.subject}${labels ? ` (${labels})` : ''}`;
}

export function since(i: IncidentView): string {
  if (i.state === 'resolved' && i.resolvedAt !== undefined) return `${iso(i.openedAt)}, resolved ${iso(i.resolvedAt)} after ${duration(i.resolvedAt - i.openedAt)}`;
  return iso(i.openedAt);
}

/**
 * The console's page for an incident, under the address people open Whistle at; undefined when
 * that address is not configured (a link to a guessed host would be a wrong link).
 */
export function incidentLink(base: string | undefined, id: string): string | undefined {
  return base ? `${base.replace(/\/+$/, '')}/console/incidents/${encodeURIComponent(id)}` : undefined;
}

/** The full plain-text body (email, ticket description). */
export function textBody(i: IncidentView, link: string | undefined, note?: string): string {
  return [
    `${i.summary}`,
    '',
    `What:     ${i.detector}: ${i.summary}`,
    `Where:    ${where(i)}`,
    `Since:    ${since(i)}`,
    `State:    ${i.state} (severity ${i.severity})`,
    ...(note ? [`Change:   ${note}`] : []),
    '',
    'Evidence:',
    ...evidenceLines(i).map((l) => `  ${l}`),
    '',
    `Incident: ${i.id}`,
    ...(link ? [`Link:     ${link}`] : []),
  ].join('\n');
}
