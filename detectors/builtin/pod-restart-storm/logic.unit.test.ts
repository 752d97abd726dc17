import { describe, expect, it } from 'vitest';
import type { KubePodState, KubeWorkloadState } from '../../../core/kube.ts';
import { NOW } from '../../testing/rows.ts';
import { podRestartStormConfig } from './config.ts';
import { podRestartFindings } from './logic.ts';

const cfg = podRestartStormConfig.parse({});
function pod(name: string, node: string, restartsInWindow: number, opts: { ns?: string; reason?: string; exit?: number; workload?: string } = {}): KubePodState {
  return {
    namespace: opts.ns ?? 'shop',
    name,
    node,
    phase: 'Running',
    ready: false,
    workload: { kind: 'Deployment', name: opts.workload ?? 'web' },
    containers: [
      {
        name: 'app',
        ready: false,
        restartCount: restartsInWindow + 2,
        restartsInWindow,
        state: 'waiting',
        waitingReason: 'CrashLoopBackOff',
        lastTermination: restartsInWindow > 0 ? { reason: opts.reason ?? 'OOMKilled', exitCode: opts.exit ?? 137 } : undefined,
      },
    ],
  };
}

describe('pod-restart-storm', () => {
  it('reports a container restarting 3 times in the window, not one restarting twice', () => {
    const f = podRestartFindings('c1', NOW, [pod('a', 'n1', 3), pod('b', 'n1', 2), pod('c', 'n2', 0)], cfg);
    expect(f.map((x) => x.subject)).toEqual(['shop/a']);
    expect(f[0]).toMatchObject({ severity: 'warning', labels: { namespace: 'shop', pod: 'a', node: 'n1', workload: 'Deployment/web' } });
    expect(f[0]!.summary).toMatch(/restarted 3 times in 10 min \(last: OOMKilled \(exit 137\)\)/);
  });

  it('groups many restarting pods into one storm finding naming what they share', () => {
    const pods = [
      pod('a', 'n1', 4),
      pod('b', 'n1', 1, { ns: 'billing', workload: 'api', reason: 'Error', exit: 1 }),
      pod('c', 'n1', 2),
      pod('d', 'n1', 5, { ns: 'billing', workload: 'api' }),
      pod('e', 'n1', 1, { ns: 'ops', workload: 'agent' }),
      pod('quiet', 'n2', 0),
    ];
    const f = podRestartFindings('c1', NOW, pods, cfg);
    expect(f).toHaveLength(1);
    const s = f[0]!;
    expect(s).toMatchObject({ subject: 'storm', severity: 'critical', labels: { node: 'n1' } });
    expect(s.evidence.shared).toEqual({ node: 'n1' });
    expect(s.evidence.pods).toBe(5);
    expect(s.evidence.restarts).toBe(13);
    expect(s.evidence.terminationReasons).toEqual([
      { value: 'OOMKilled (exit 137)', pods: 4 },
      { value: 'exit code 1', pods: 1 },
    ]);
    expect((s.evidence.top as { namespace: unknown }).namespace).toEqual([
      { value: 'shop', pods: 2 },
      { value: 'billing', pods: 2 },
      { value: 'ops', pods: 1 },
    ].sort((a, b) => b.pods - a.pods || a.value.localeCompare(b.value)));
    expect(s.summary).toMatch(/^restart storm: 5 pods restarted 13 times in 10 min, all on node n1; last terminations: OOMKilled \(exit 137\) ×4/);
  });

  it('a storm of several workloads on one node has scope node, naming it', () => {
    const pods = [pod('a', 'n1', 4), pod('b', 'n1', 1, { workload: 'api' }), pod('c', 'n1', 2), pod('d', 'n1', 5, { workload: 'api' }), pod('e', 'n1', 1, { workload: 'agent' })];
    const s = podRestartFindings('c1', NOW, pods, cfg)[0]!;
    expect(s.evidence).toMatchObject({ scope: 'node', node: 'n1' });
    expect(s.evidence).not.toHaveProperty('workload');
    expect(s.summary).toMatch(/; common factor: node n1$/);
  });

  it('a storm of one workload across nodes has scope workload, with its images, exit codes and last rollout', () => {
    const pods = ['n1', 'n2', 'n3', 'n1', 'n2'].map((n, i) => pod(`web-${i}`, n, 3, { reason: 'Error', exit: 2 }));
    for (const p of pods) p.containers[0]!.image = 'registry.example/web:2';
    const web: KubeWorkloadState = { kind: 'Deployment', namespace: 'shop', name: 'web', desired: 5, ready: 0, available: 0, updated: 5, revision: 3, revisionSince: Date.parse('2026-12-01T10:00:00Z'), images: ['registry.example/web:2'] };
    const s = podRestartFindings('c1', NOW, pods, cfg, [web])[0]!;
    expect(s.evidence).toMatchObject({
      scope: 'workload',
      workload: { namespace: 'shop', kind: 'Deployment', name: 'web' },
      images: [{ value: 'registry.example/web:2', pods: 5 }],
      exitCodes: [{ exitCode: 2, pods: 5 }],
      rollout: { revision: 3, since: '2026-12-01T10:00:00.000Z', images: ['registry.example/web:2'], desired: 5, available: 0 },
    });
    expect(Object.keys(s.evidence).slice(0, 2)).toEqual(['scope', 'workload']);
    expect(s.summary).toMatch(/; common factor: workload shop\/Deployment\/web \(revision 3 since 2026-12-01T10:00:00.000Z\)$/);
  });

  it('one workload all on one node: the pods beside them decide', () => {
    const storm = ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n, 'n1', 2));
    // Another workload runs fine on n1: the workload is the problem.
    expect(podRestartFindings('c1', NOW, [...storm, pod('other', 'n1', 0, { workload: 'api' })], cfg)[0]!.evidence.scope).toBe('workload');
    // The same workload runs fine on n2: the node is.
    expect(podRestartFindings('c1', NOW, [...storm, pod('f', 'n2', 0)], cfg)[0]!.evidence).toMatchObject({ scope: 'node', node: 'n1' });
  });

  it('many workloads on many nodes: no common factor', () => {
    const pods = [pod('a', 'n1', 2), pod('b', 'n2', 2, { workload: 'api' }), pod('c', 'n3', 2), pod('d', 'n1', 2, { workload: 'x' }), pod('e', 'n2', 2)];
    expect(podRestartFindings('c1', NOW, pods, cfg)[0]!.evidence.scope).toBeNull();
  });
});
