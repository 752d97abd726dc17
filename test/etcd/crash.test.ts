// Whistle killed with SIGKILL in the middle of an etcd member replacement, on real etcd, and started
// again on the same data dir and port. The agents (in this process: the real poller and task
// runner) keep their etcd members and their polls across the crash. The kill lands the moment an
// agent has run the replacement's `etcd.member-add` and before its result reaches the plane: the
// learner is in the cluster, the plane never heard so. After the restart no step may run twice on
// any agent, and none may be forgotten: the replacement is carried on to three healthy voters and
// the incident resolves, or it escalates, and the incident's history says which.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EtcdInfo } from '../../bootstrap/etcd/cluster-view.ts';
import type { Action, Task, TaskResult } from '../../core/types.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import { EtcdHarness } from './harness.ts';
import { eventually } from './poll.ts';

interface Ran {
  node: string;
  kind: string;
  params: Record<string, unknown>;
  result: TaskResult;
  at: number;
}

const ran: Ran[] = [];
const dropped: { node: string; kind: string; why: string }[] = [];
let killOnTask: ((task: Task, result: TaskResult) => boolean) | null = null;
let killedAt = 0;

const h = new EtcdHarness({
  subnet: 67,
  members: 3,
  telemetryMs: 500,
  external: true,
  remediation: { etcdMemberReplace: { recheckMs: 1_000, telemetryCatchUpMs: 5_000 } },
  onTaskRun: (node, task, result) => {
    ran.push({ node, kind: task.kind, params: task.params, result, at: Date.now() });
    if (killOnTask?.(task, result) && h.process?.pid) {
      killOnTask = null;
      // Synchronous, before the poller reports the result: the plane dies not knowing the step ran.
      process.kill(h.process.pid, 'SIGKILL');
      killedAt = Date.now();
    }
  },
  onTaskDropped: (node, task, why) => dropped.push({ node, kind: task.kind, why }),
});

beforeAll(async () => {
  await h.start();
  await h.bootstrap();
}, 180_000);

afterAll(async () => {
  await h.close();
});

const incidents = async () => (await h.api<{ incidents: IncidentView[] }>('GET', '/v1/incidents?detector=etcd-quorum')).body.incidents;

describe('etcd member replacement survives a SIGKILL of Whistle', () => {
  it('carries the replacement on after a restart, running no step twice', async () => {
    await eventually('a quiet start (no open etcd incident)', async () => (await incidents()).every((i) => i.state === 'resolved'), 30_000);
    const before = (await h.api<{ info: EtcdInfo }>('GET', `/v1/etcd/${h.cluster}/info`)).body.info;
    const lost = before.members.find((m) => m.name === 'n2')!;
    const n2URL = lost.peerURL;
    killOnTask = (task, result) => task.kind === 'etcd.member-add' && task.params.peerURL === n2URL && result.ok;

    const memberKilledAt = Date.now();
    h.killMember(1);
    let incidentId = '';
    await eventually(
      'Whistle killed right after the member-add ran',
      async () => {
        // Seen while the plane lives: the incident the replacement belongs to.
        if (!incidentId && !killedAt) incidentId = (await incidents().catch(() => [])).find((i) => i.state !== 'resolved' && i.updatedAt >= memberKilledAt)?.id ?? '';
        return killedAt > 0;
      },
      90_000,
      100,
    );
    await h.process!.kill();
    expect(incidentId).not.toBe('');

    // Down for a while, as a real crash is: the agents' polls and reports fail meanwhile.
    await new Promise((r) => setTimeout(r, 2_000));
    await h.process!.start();

    const settled = await eventually(
      'the incident resolved or escalated after the restart',
      async () => {
        const { body } = await h.api<{ incident: IncidentView; history: { kind: string; state: string; reason: string }[]; actions: Action[] }>('GET', `/v1/incidents/${incidentId}`);
        return ['resolved', 'escalated'].includes(body.incident.state) ? body : null;
      },
      120_000,
      500,
    );
    const history = settled.history.map((e) => `${e.kind} ${e.state}: ${e.reason}`).join('\n');
    expect(history).toMatch(/Whistle restarted during this action \(last recorded step: etcd\.join n2, started and not finished\); carrying it on: etcd\.join n2/);
    expect(settled.incident.state, history).toBe('resolved');

    const after = (await h.api<{ info: EtcdInfo }>('GET', `/v1/etcd/${h.cluster}/info`)).body.info;
    expect(after.members.map((m) => m.name).sort()).toEqual(['n1', 'n2', 'n3']);
    expect(after.members.every((m) => m.healthy && !m.isLearner)).toBe(true);

    // What the agents really did from the member's death on, across both plane lifetimes.
    const since = ran.filter((r) => r.at >= memberKilledAt && r.result.ok);
    const count = (kind: string, pick: (r: Ran) => boolean = () => true) => since.filter((r) => r.kind === kind && pick(r)).length;
    const summary = since.map((r) => `${r.node} ${r.kind}`).join('\n');
    expect(count('etcd.member-remove', (r) => r.params.memberId === lost.id && r.result.output.removed === true), summary).toBe(1);
    expect(count('etcd.reset', (r) => r.node === 'n2'), summary).toBe(1);
    expect(count('etcd.member-add', (r) => r.params.peerURL === n2URL), summary).toBe(1);
    expect(count('etcd.start', (r) => r.node === 'n2'), summary).toBe(1);
    expect(count('etcd.member-promote', (r) => r.result.output.promoted === true), summary).toBe(1);

    // The record: one replacement action, carried to its end under its own id; the join cut short is closed as interrupted.
    const actions = (await h.api<{ actions: Action[] }>('GET', `/v1/actions?incident=${incidentId}`)).body.actions;
    const replace = actions.filter((a) => a.kind === 'etcd.member-replace');
    expect(new Set(replace.map((a) => a.id)).size).toBe(1);
    expect(replace.map((a) => a.state).sort()).toEqual(['started', 'succeeded']);
    const joins = actions.filter((a) => a.kind === 'etcd.join');
    expect(joins.filter((a) => a.state === 'failed' && a.reason.startsWith('Interrupted'))).toHaveLength(1);
    expect(joins.filter((a) => a.state === 'succeeded')).toHaveLength(1);
    console.log(`killed ${killedAt - memberKilledAt} ms after the member died; dropped by agents after the crash: ${dropped.map((d) => `${d.node} ${d.kind}`).join(', ') || 'none'}`);
  }, 300_000);
});
