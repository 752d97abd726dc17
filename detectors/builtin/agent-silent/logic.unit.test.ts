import { describe, expect, it } from 'vitest';
import type { RegisteredNodeInfo } from '../../api.ts';
import { HOUR, MIN, NOW } from '../../testing/rows.ts';
import { agentSilentConfig } from './config.ts';
import { agentSilentFindings } from './logic.ts';

const cfg = agentSilentConfig.parse({});
const node = (name: string, status: RegisteredNodeInfo['status'] = 'authorized', authorizedAgo = HOUR): RegisteredNodeInfo => ({
  node: name,
  status,
  registeredAt: NOW - authorizedAgo - MIN,
  updatedAt: NOW - authorizedAgo,
});

describe('agent-silent', () => {
  it('reports an authorized node silent for 3 intervals, warning first and critical later', () => {
    const nodes = [node('a'), node('b'), node('c')];
    const seen = new Map([
      ['a', NOW - 5_000],
      ['b', NOW - 31_000],
      ['c', NOW - 10 * MIN],
    ]);
    const f = agentSilentFindings('c1', NOW, nodes, seen, cfg);
    expect(f.map((x) => [x.subject, x.severity])).toEqual([
      ['b', 'warning'],
      ['c', 'critical'],
    ]);
    expect(f[0]!.evidence).toMatchObject({ silentSeconds: 31, lastSampleAt: new Date(NOW - 31_000).toISOString(), silentNodes: 2, authorizedNodes: 3 });
  });

  it('ignores pending and revoked nodes, and gives a newly authorized node its grace period', () => {
    const nodes = [node('p', 'pending'), node('r', 'revoked'), node('new', 'authorized', 10_000), node('never', 'authorized', 2 * MIN)];
    const f = agentSilentFindings('c1', NOW, nodes, new Map(), cfg);
    expect(f.map((x) => x.subject)).toEqual(['never']);
    expect(f[0]!.summary).toMatch(/nothing received since authorization/);
  });

  it('a silent node that comes back is no longer reported', () => {
    expect(agentSilentFindings('c1', NOW, [node('a')], new Map([['a', NOW - 1000]]), cfg)).toEqual([]);
  });
});
