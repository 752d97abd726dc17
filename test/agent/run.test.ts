// `runAgentCommand` in a real child process: it takes the join token from the cluster list, delivers
// telemetry, and on SIGTERM stops cleanly (exit 0) leaving its state behind for the next run.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TOKEN_FILE } from '../../agent/token-store.ts';
import { FakeManagementPlane, JOIN_TOKEN, waitFor } from './fake-management-plane.ts';

let dir: string;
const plane = new FakeManagementPlane();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whistle-agent-run-'));
  await plane.start();
});
afterAll(async () => {
  await plane.stop();
  await rm(dir, { recursive: true, force: true });
});

it('runs until SIGTERM, then stops cleanly', async () => {
  const cfg = {
    clusters: [{ name: 'c1', joinToken: JOIN_TOKEN }],
    agent: { server: plane.url, cluster: 'c1', node: 'run-test', stateDir: dir, intervalMs: 200 },
  };
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'run-agent-fixture.ts'), JSON.stringify(cfg)], {
    cwd: join(import.meta.dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await waitFor(() => plane.accepted.some((s) => s.name === 'node_load1'), 'telemetry from the agent process');
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${String(err)}\n${out}`);
  }
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(out).toContain('AGENT-COMMAND-RETURNED');
  expect(out).toContain('node agent stopped');
  expect(out).not.toContain(JOIN_TOKEN); // secrets never reach the log
  for (const token of plane.tokens.keys()) expect(out).not.toContain(token);
  expect(plane.registrations).toBe(1);
  expect(await readdir(dir)).toContain(TOKEN_FILE);
});
