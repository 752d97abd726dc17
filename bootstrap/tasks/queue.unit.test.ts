// The plane's task queue holds both ends of the contract: parameters are checked before anything
// is queued, and an agent's result is checked against the kind's result schema before the caller
// sees it.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { TaskError, TaskQueue } from './queue.ts';

function queue() {
  const rows: Record<string, unknown>[] = [];
  const q = new TaskQueue({ insert: async (_table, r) => void rows.push(...r) }, pino({ level: 'silent' }), 5_000);
  return { q, rows };
}

describe('TaskQueue and the task contract', () => {
  it('refuses parameters that break the contract before queuing, naming the field', async () => {
    const { q, rows } = queue();
    // @ts-expect-error: the contract types params; a wrong type does not compile either.
    const run = q.run('c', 'n1', 'etcd.members', { clientPort: 'x' });
    await expect(run).rejects.toThrow(TaskError);
    await expect(run).rejects.toThrow(/^n1: etcd\.members: params\.clientPort: /);
    expect(await q.poll('c', 'n1', 0)).toEqual([]);
    await q.flush();
    expect(rows).toEqual([]);
  });

  it('queues the parameters with their defaults and returns the typed result', async () => {
    const { q } = queue();
    const run = q.runOk('c', 'n1', 'etcd.member-add', { clientPort: 2379, peerURL: 'https://10.0.0.2:2380' });
    const [task] = await q.poll('c', 'n1', 0);
    expect(task?.params).toEqual({ clientPort: 2379, peerURL: 'https://10.0.0.2:2380', learner: true });
    const output = { added: true, member: { id: '42', peerURLs: ['https://10.0.0.2:2380'], isLearner: true }, members: [] };
    expect(q.complete('c', 'n1', { taskId: task!.id, ok: true, output, finishedAt: Date.now() })).toBe('accepted');
    const r = await run;
    expect(r.member.id).toBe('42');
  });

  it('turns a result that does not match the contract into a task error naming the field', async () => {
    const { q, rows } = queue();
    const run = q.run('c', 'n1', 'etcd.process', {});
    const [task] = await q.poll('c', 'n1', 0);
    q.complete('c', 'n1', { taskId: task!.id, ok: true, output: { running: true, pid: 'one', hasData: true }, finishedAt: Date.now() });
    const r = await run;
    expect(r).toEqual({ ok: false, taskId: task!.id, error: expect.stringMatching(/does not match the task contract: result\.pid: /) });
    await q.flush();
    expect(rows.map((x) => x.state)).toEqual(['queued', 'dispatched', 'failed']);
  });

  it('runOk throws that mismatch as a TaskError', async () => {
    const { q } = queue();
    const run = q.runOk('c', 'n1', 'etcd.stop', {});
    const [task] = await q.poll('c', 'n1', 0);
    q.complete('c', 'n1', { taskId: task!.id, ok: true, output: { stopped: 'maybe' }, finishedAt: Date.now() });
    await expect(run).rejects.toThrow(/^n1: etcd\.stop: the agent's result does not match the task contract: result\.stopped: /);
  });

  it("passes the agent's own failure through", async () => {
    const { q } = queue();
    const run = q.run('c', 'n1', 'etcd.reset', {});
    const [task] = await q.poll('c', 'n1', 0);
    q.complete('c', 'n1', { taskId: task!.id, ok: false, output: {}, error: 'disk full', finishedAt: Date.now() });
    expect(await run).toEqual({ ok: false, taskId: task!.id, error: 'disk full' });
  });
});
