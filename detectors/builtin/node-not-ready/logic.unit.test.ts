import { describe, expect, it } from 'vitest';
import type { KubeNodeState } from '../../../core/kube.ts';
import { MIN, NOW } from '../../testing/rows.ts';
import { nodeNotReadyConfig } from './config.ts';
import { nodeNotReadyFindings } from './logic.ts';

const cfg = nodeNotReadyConfig.parse({});
function node(name: string, ready: KubeNodeState['ready'], sinceAgo: number, extra: KubeNodeState['conditions'] = []): KubeNodeState {
  return {
    name,
    ready,
    unschedulable: false,
    conditions: [{ type: 'Ready', status: ready, reason: ready === 'True' ? 'KubeletReady' : 'NodeStatusUnknown', lastTransitionTime: NOW - sinceAgo }, ...extra],
  };
}

describe('node-not-ready', () => {
  it('reports nodes NotReady for longer than forMs as critical', () => {
    const f = nodeNotReadyFindings('c1', NOW, [node('ok', 'True', 60 * MIN), node('gone', 'Unknown', 5 * MIN), node('flap', 'False', 10_000)], cfg);
    expect(f.map((x) => [x.subject, x.severity])).toEqual([['gone', 'critical']]);
    expect(f[0]!.summary).toMatch(/NotReady \(Ready=Unknown, NodeStatusUnknown\) for 5 min/);
  });

  it('warns on pressure conditions of a Ready node', () => {
    const f = nodeNotReadyFindings('c1', NOW, [node('full', 'True', 60 * MIN, [{ type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure' }])], cfg);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'warning', summary: 'node full under DiskPressure' });
  });
});
