// Links in notifications: the console's incident page under the public URL, or none at all.
import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../core/pipeline.ts';
import { incidentLink, textBody } from './format.ts';

const incident: IncidentView = {
  id: 'inc-1/x',
  fingerprint: 'low-disk/c1/n1',
  cluster: 'c1',
  detector: 'low-disk',
  subject: 'n1',
  severity: 'warning',
  state: 'open',
  summary: 'disk on n1 is 91% full',
  openedAt: Date.UTC(2026, 0, 1),
  updatedAt: Date.UTC(2026, 0, 1),
  labels: {},
  evidence: {},
};

describe('incident links', () => {
  it('point at the console under the public URL, whatever trailing slashes it has', () => {
    expect(incidentLink('https://whistle.example.com', 'inc-1')).toBe('https://whistle.example.com/console/incidents/inc-1');
    expect(incidentLink('https://example.com/whistle//', 'inc-1/x')).toBe('https://example.com/whistle/console/incidents/inc-1%2Fx');
  });

  it('are absent without a public URL, and the text says nothing of a link', () => {
    expect(incidentLink(undefined, 'inc-1')).toBeUndefined();
    expect(textBody(incident, undefined)).not.toMatch(/Link:|http/);
    expect(textBody(incident, 'https://w.example/console/incidents/inc-1%2Fx')).toContain('Link:     https://w.example/console/incidents/inc-1%2Fx');
  });
});
