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

  it('counts an agent alive on what it did, not on a task handed to its poll', async () => {
    const { q } = queue();
    const run = q.run('c', 'n1', 'etcd.process', {}, 1_000);
    const [task] = await q.poll('c', 'n1', 0);
    await new Promise((r) => setTimeout(r, 5));
    // Handed out, but the poll's connection may have been gone: no evidence beyond the poll itself.
    expect(q.agentAlive('c', 'n1', 1)).toBe(false);
    expect(q.acknowledge('c', 'n1', task!.id)).toBe('accepted');
    expect(q.agentAlive('c', 'n1', 1)).toBe(true);
    expect(q.acknowledge('c', 'n2', task!.id)).toBe('forbidden');
    q.complete('c', 'n1', { taskId: task!.id, ok: true, output: { running: false, pid: null, hasData: false }, finishedAt: Date.now() });
    expect((await run).ok).toBe(true);
    expect(q.acknowledge('c', 'n1', task!.id)).toBe('unknown');
  });

  it('names a task handed out but never acknowledged when it expires', async () => {
    const { q } = queue();
    const run = q.run('c', 'n1', 'etcd.process', {}, 50);
    await q.poll('c', 'n1', 0);
    expect(await run).toEqual({ ok: false, taskId: expect.any(String), error: expect.stringMatching(/never acknowledged/) });
  });

  it('queues a task again when the poll answer carrying it was not delivered', async () => {
    const { q } = queue();
    void q.run('c', 'n1', 'etcd.process', {}, 1_000);
    const first = await q.poll('c', 'n1', 0);
    q.undelivered('c', 'n1', first);
    const again = await q.poll('c', 'n1', 0);
    expect(again.map((t) => t.id)).toEqual(first.map((t) => t.id));
    q.acknowledge('c', 'n1', again[0]!.id);
    q.undelivered('c', 'n1', again);
    expect(await q.poll('c', 'n1', 0)).toEqual([]);
    await q.close();
  });

  it("never waits less for a task than the agent's budget for its kind", async () => {
    const { q } = queue();
    const run = q.run('c', 'n1', 'etcd.snapshot-verify', { file: 'c-1.db' }, 10);
    await new Promise((r) => setTimeout(r, 50));
    expect(q.agentAlive('c', 'n1', 1_000)).toBe(false);
    // Still waiting: the kind's budget (20 s) plus the margin overrides the 10 ms asked for.
    const [task] = await q.poll('c', 'n1', 0);
    expect(task?.kind).toBe('etcd.snapshot-verify');
    await q.close();
    expect((await run).ok).toBe(false);
  });
});
