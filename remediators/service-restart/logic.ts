// service-restart decisions, without side effects: which node a kubelet-down incident names, the
// plan that is recorded, dry-run and ticketed, and how the agent's report reads.
import type { TaskResult } from '../../bootstrap/tasks/contract.ts';
import type { IncidentView } from '../../core/pipeline.ts';

export const ID = 'service-restart';
export const DETECTOR = 'kubelet-down';
export const TASK = 'node.service-restart';

export type RestartReport = TaskResult<typeof TASK>;

/** The node whose kubelet is down: the evidence names it, the subject is it. */
export function restartNode(inc: IncidentView): string | null {
  const node = String((inc.evidence as { node?: unknown }).node ?? inc.labels.node ?? inc.subject ?? '');
  return node || null;
}

export function restartPlan(node: string, unit: string, probeName: string): string {
  return [
    `restart ${unit} on ${node}`,
    `  1. node.service-restart on ${node}: its configured restart command for ${unit} (agent.tasks.services), then its probe`,
    `  2. verify: a ${probeName} probe sample from ${node} newer than the restart says up`,
  ].join('\n');
}

const tail = (s: string) => s.trim().split('\n').slice(-3).join(' | ');

/** What the restart did, for the history and the escalation ticket. */
export function describeRestart(r: RestartReport): string {
  const probe = r.probeOk === null ? 'no probe configured on the node' : r.probeOk ? `probe answered after ${r.waitedMs} ms` : `probe did not answer within ${r.waitedMs} ms`;
  const out = [r.stdoutTail && `stdout: ${tail(r.stdoutTail)}`, r.stderrTail && `stderr: ${tail(r.stderrTail)}`].filter(Boolean);
  return [`  - restart ${r.unit}: exit code ${r.exitCode}, ${probe}`, ...out.map((l) => `    ${l}`)].join('\n');
}

/** The newest probe sample taken after the restart. */
export interface FreshProbe {
  up: boolean;
  ts: number;
}
