// Bad input: a join through an unreachable peer, a corrupt snapshot, a port already taken, and
// malformed requests. Each must give a clear error naming the problem and leave the cluster as it was.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskRunner } from '../../agent/tasks/runner.ts';
import type { EtcdInfo } from '../../bootstrap/etcd/cluster-view.ts';
import { EtcdHarness } from './harness.ts';

// n1..n3 members, n4 a spare with an agent, n5 configured but with no agent (unreachable).
const h = new EtcdHarness({ subnet: 63, members: 3, spares: 1, ghosts: 1, telemetryMs: 1_000 });

async function members(): Promise<string[]> {
  const { body } = await h.api<{ info: EtcdInfo }>('GET', `/v1/etcd/${h.cluster}/info`);
  expect(body.info.quorum).toBe(true);
  return body.info.members.map((m) => `${m.id}:${m.name}:${m.isLearner}`).sort();
}

let baseline: string[] = [];

beforeAll(async () => {
  await h.start();
  await h.bootstrap();
  baseline = await members();
}, 120_000);

afterAll(async () => {
  await h.close();
});

describe('etcd bad input', () => {
  it('join through an unreachable peer: clear error, nothing changed', async () => {
    const r = await h.api<{ error: string; code: string }>('POST', `/v1/etcd/${h.cluster}/join`, { node: 'n4', via: 'n5' });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatch(/via: cannot reach etcd through n5: the agent on n5 did not pick up the task/);
    expect(r.body.error).toMatch(/nothing was changed/);
    expect(await members()).toEqual(baseline);
  }, 30_000);

  it('a port already taken on the joining node: clear error, no learner left behind', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((res) => blocker.listen(2379, h.address(3), () => res()));
    try {
      const r = await h.api<{ error: string }>('POST', `/v1/etcd/${h.cluster}/join`, { node: 'n4' });
      expect(r.status).toBe(400);
      expect(r.body.error).toContain('preflight FAILED');
      expect(r.body.error).toContain(`${h.address(3)}:2379 is already in use`);
    } finally {
      await new Promise<void>((res) => blocker.close(() => res()));
    }
    expect(await members()).toEqual(baseline);
  }, 30_000);

  it('a corrupt snapshot: restore refuses it and the cluster keeps running', async () => {
    const backups = join(h.dir, 'backups');
    mkdirSync(backups, { recursive: true });
    writeFileSync(join(backups, 'etcd-test-00000000000001.db'), 'this is not a bolt database'.repeat(100));
    const garbage = await h.api<{ error: string }>('POST', `/v1/etcd/${h.cluster}/restore`, { snapshot: 'etcd-test-00000000000001.db' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toMatch(/snapshot: .*etcd-test-00000000000001\.db is corrupt/);
    // A real snapshot with one byte flipped fails its SHA-256 check.
    const snap = await h.api<{ detail: { file: string } }>('POST', `/v1/etcd/${h.cluster}/snapshot`, {});
    expect(snap.status).toBe(200);
    const good = join(backups, snap.body.detail.file);
    const bad = join(backups, 'etcd-test-00000000000002.db');
    copyFileSync(good, bad);
    const bytes = readFileSync(bad);
    bytes[4096] = bytes[4096]! ^ 0xff;
    writeFileSync(bad, bytes);
    const flipped = await h.api<{ error: string }>('POST', `/v1/etcd/${h.cluster}/restore`, { snapshot: 'etcd-test-00000000000002.db' });
    expect(flipped.status).toBe(400);
    expect(flipped.body.error).toContain('SHA-256 mismatch');
    expect(await members()).toEqual(baseline);
    // The good one still verifies (dry run prints the plan and changes nothing).
    const dry = await h.api<{ dryRun: boolean; plan: { summary: string } }>('POST', `/v1/etcd/${h.cluster}/restore`, { snapshot: snap.body.detail.file, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.plan.summary).toContain(snap.body.detail.file);
    expect(await members()).toEqual(baseline);
  }, 60_000);

  it('malformed requests name the bad field', async () => {
    const unknownNode = await h.api<{ error: string }>('POST', `/v1/etcd/${h.cluster}/join`, { node: 'nope' });
    expect(unknownNode.status).toBe(400);
    expect(unknownNode.body.error).toMatch(/^node: "nope" is not an etcd node/);
    const badName = await h.api<{ error: string }>('POST', `/v1/etcd/${h.cluster}/restore`, { snapshot: '../../etc/passwd' });
    expect(badName.status).toBe(400);
    expect(badName.body.error).toMatch(/body\.snapshot/);
    const unknownCluster = await h.api<{ error: string }>('GET', `/v1/etcd/nope/info`);
    expect(unknownCluster.status).toBe(404);
    const extra = await h.api<{ error: string }>('POST', `/v1/etcd/${h.cluster}/remove`, { node: 'n2', force: true });
    expect(extra.status).toBe(400);
    expect(await members()).toEqual(baseline);
  });

  it('agents refuse task kinds off the allow-list and bad parameters', async () => {
    const runner = new TaskRunner({ env: { cluster: 'c', node: 'x', address: '127.0.63.99', dataRoot: join(h.dir, 'x'), backupDir: join(h.dir, 'x-b') } });
    const shell = await runner.run({ id: '1', cluster: 'c', node: 'x', kind: 'shell.exec', params: { cmd: 'rm -rf /' }, createdAt: 0 });
    expect(shell.ok).toBe(false);
    expect(shell.error).toMatch(/task kind "shell.exec" is not allowed/);
    const params = await runner.run({ id: '2', cluster: 'c', node: 'x', kind: 'etcd.snapshot', params: { clientPort: 2379, file: '../x.db', retain: 1, prefix: 'c' }, createdAt: 0 });
    expect(params.ok).toBe(false);
    expect(params.error).toMatch(/^etcd\.snapshot: params\.file: must be a file name/);
    const other = await runner.run({ id: '3', cluster: 'c', node: 'y', kind: 'etcd.stop', params: {}, createdAt: 0 });
    expect(other.error).toMatch(/task is for c\/y/);
  });
});
