import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../core/pipeline.ts';
import { describeRestart, restartNode, restartPlan } from './logic.ts';

function incident(evidence: Record<string, unknown>, subject = 'n1'): IncidentView {
  return { id: 'i', fingerprint: 'f', cluster: 'c1', detector: 'kubelet-down', subject, severity: 'critical', state: 'open', summary: '', openedAt: 0, updatedAt: 0, labels: {}, evidence };
}

describe('service-restart logic', () => {
  it('the node is the one the evidence names, else the subject', () => {
    expect(restartNode(incident({ node: 'n2' }))).toBe('n2');
    expect(restartNode(incident({}, 'n3'))).toBe('n3');
    expect(restartNode(incident({}, ''))).toBeNull();
  });

  it('the plan names the unit, the node and the probe that must say up', () => {
    const plan = restartPlan('n1', 'kubelet', 'kubelet');
    expect(plan.split('\n')[0]).toBe('restart kubelet on n1');
    expect(plan).toContain('a kubelet probe sample from n1 newer than the restart says up');
  });

  it('says what the restart did: exit code, probe, the last lines of its output', () => {
    expect(describeRestart({ unit: 'kubelet', exitCode: 0, stdoutTail: 'a\nb\nc\nd\n', stderrTail: '', probeOk: true, waitedMs: 300 })).toBe(
      '  - restart kubelet: exit code 0, probe answered after 300 ms\n    stdout: b | c | d',
    );
    expect(describeRestart({ unit: 'kubelet', exitCode: 0, stdoutTail: '', stderrTail: 'oops', probeOk: false, waitedMs: 60_000 })).toBe(
      '  - restart kubelet: exit code 0, probe did not answer within 60000 ms\n    stderr: oops',
    );
    expect(describeRestart({ unit: 'crio', exitCode: 0, stdoutTail: '', stderrTail: '', probeOk: null, waitedMs: 0 })).toBe('  - restart crio: exit code 0, no probe configured on the node');
  });
});
