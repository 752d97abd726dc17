// The agent task contract and the agent's allow-list agree: one handler per contract kind, and the
// contract's schemas refuse bad parameters naming the field, on the agent as on the plane.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { TASK_HANDLERS } from '../../agent/tasks/registry.ts';
import { TaskRunner } from '../../agent/tasks/runner.ts';
import { checkParams, checkResult, isTaskKind, TASK_KINDS } from '../../bootstrap/tasks/contract.ts';

describe('agent task contract', () => {
  it('the agent has a handler for every contract kind and none for anything else', () => {
    expect(Object.keys(TASK_HANDLERS).sort()).toEqual([...TASK_KINDS].sort());
    expect(TASK_KINDS.length).toBeGreaterThan(0);
  });

  it('knows only its own kinds', () => {
    expect(isTaskKind('etcd.start')).toBe(true);
    expect(isTaskKind('shell.exec')).toBe(false);
    expect(isTaskKind('toString')).toBe(false);
  });

  it('refuses bad parameters, naming the field', () => {
    const file = checkParams('etcd.snapshot', { clientPort: 2379, file: '../x.db', retain: 1, prefix: 'c' });
    expect(file).toEqual({ ok: false, error: expect.stringMatching(/^params\.file: must be a file name/) });
    const port = checkParams('etcd.members', { clientPort: 70_000 });
    expect(port).toEqual({ ok: false, error: expect.stringMatching(/^params\.clientPort: /) });
    const nested = checkParams('preflight.check-reach', { targets: [{ node: 'n1', host: 'not-an-ip', port: 2380 }] });
    expect(nested).toEqual({ ok: false, error: expect.stringMatching(/^params\.targets\.0\.host: /) });
    const unknown = checkParams('etcd.stop', { force: true });
    expect(unknown).toEqual({ ok: false, error: 'params: unknown key "force"' });
    const missing = checkParams('etcd.member-remove', { clientPort: 2379 });
    expect(missing).toEqual({ ok: false, error: expect.stringMatching(/^params\.memberId: /) });
  });

  it('fills in defaults for parameters a caller may leave out', () => {
    const r = checkParams('etcd.member-add', { clientPort: 2379, peerURL: 'https://10.0.0.2:2380' });
    expect(r).toEqual({ ok: true, value: { clientPort: 2379, peerURL: 'https://10.0.0.2:2380', learner: true } });
  });

  it('refuses a result that does not match, naming the field', () => {
    const r = checkResult('etcd.process', { running: 'yes', pid: null, hasData: false });
    expect(r).toEqual({ ok: false, error: expect.stringMatching(/^result\.running: /) });
    const variant = checkResult('etcd.member-remove', { removed: true });
    expect(variant).toEqual({ ok: false, error: expect.stringMatching(/^result\.member: /) });
    expect(checkResult('etcd.member-remove', { removed: false, notMember: true }).ok).toBe(true);
  });

  it('the agent runs nothing off the contract and checks parameters with its schemas', async () => {
    const dir = join(tmpdir(), 'whistle-task-contract');
    const runner = new TaskRunner({ env: { cluster: 'c', node: 'x', address: '127.0.0.1', dataRoot: join(dir, 'x'), backupDir: join(dir, 'b') } });
    const shell = await runner.run({ id: '1', cluster: 'c', node: 'x', kind: 'shell.exec', params: { cmd: 'rm -rf /' }, createdAt: 0 });
    expect(shell).toMatchObject({ ok: false, error: expect.stringMatching(/^task kind "shell.exec" is not allowed/) });
    const bad = await runner.run({ id: '2', cluster: 'c', node: 'x', kind: 'etcd.snapshot', params: { clientPort: 2379, file: '../x.db', retain: 1, prefix: 'c' }, createdAt: 0 });
    expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/^etcd\.snapshot: params\.file: must be a file name/) });
  });
});
