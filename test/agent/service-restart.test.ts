// node.service-restart through the agent's real TaskRunner: a real HTTP service stands for the
// kubelet (a node process writing its pid to a file) and the configured restart command is a
// script that really kills it and starts a new one; the task waits for the new one's /healthz.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSchema } from '../../agent/config.ts';
import type { ServiceConfig } from '../../agent/tasks/service-restart-config.ts';
import { TaskRunner } from '../../agent/tasks/runner.ts';
import { checkResult } from '../../bootstrap/tasks/contract.ts';
import { formatIssues } from '../../core/config/load.ts';
import { freePort, waitFor } from './fake-management-plane.ts';

// Listens after a short delay, as a real daemon takes a moment to come up, so the probe has to wait.
const SERVICE = `
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
const [port, pidFile] = process.argv.slice(2);
writeFileSync(pidFile, String(process.pid));
setTimeout(() => {
  createServer((req, res) => res.end(req.url === '/healthz' ? 'ok' : String(process.pid))).listen(Number(port), '127.0.0.1');
}, 300);
`;

const RESTART = `#!/bin/sh
# restart.sh PIDFILE PORT NODE SERVICE LOG: stop the running service, start a new one detached.
set -e
old=$(cat "$1")
kill "$old"
while kill -0 "$old" 2>/dev/null; do sleep 0.05; done
nohup "$3" "$4" "$2" "$1" >>"$5" 2>&1 </dev/null &
echo "restarted, was $old"
`;

const FAILING = `#!/bin/sh
echo "Job for kubelet.service failed because the control process exited with error code." >&2
echo "See \\"systemctl status kubelet.service\\" for details." >&2
exit 3
`;

// Leaves a background child holding the command's stdout, as init scripts that daemonize can.
const FORKING = `#!/bin/sh
sleep 8 &
echo started
`;

let dir: string;
let port: number;
let pidFile: string;
let runner: TaskRunner;
let services: ServiceConfig[];
let timeoutMs: number;

async function script(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  await chmod(path, 0o755);
  return path;
}

const healthz = async (path = '/healthz') => (await fetch(`http://127.0.0.1:${port}${path}`)).text();
const runningPid = async () => Number(await readFile(pidFile, 'utf8'));

function restart(unit: string) {
  return runner.run({ id: `r-${unit}`, cluster: 'c', node: 'n1', kind: 'node.service-restart', params: { unit }, createdAt: Date.now() });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whistle-service-restart-'));
  port = await freePort();
  pidFile = join(dir, 'kubelet.pid');
  const service = await script('kubelet.mjs', SERVICE);
  const restartScript = await script('restart.sh', RESTART);
  const tasks = agentSchema.parse({
    tasks: {
      taskTimeoutMs: 60_000,
      services: [
        { unit: 'kubelet', restart: [restartScript, pidFile, String(port), process.execPath, service, join(dir, 'kubelet.log')], timeoutMs: 10_000, probe: { url: `http://127.0.0.1:${port}/healthz`, waitMs: 10_000, intervalMs: 100 } },
        { unit: 'containerd', restart: [await script('failing.sh', FAILING)], probe: { tcp: { host: '127.0.0.1', port }, waitMs: 5_000 } },
        { unit: 'stuck', restart: ['sleep', '30'], timeoutMs: 300 },
        { unit: 'no-answer', restart: ['true'], probe: { tcp: { host: '127.0.0.1', port: await freePort() }, waitMs: 600, intervalMs: 100 } },
        { unit: 'forking', restart: [await script('forking.sh', FORKING)], timeoutMs: 10_000 },
      ],
    },
  }).tasks;
  services = tasks.services;
  timeoutMs = tasks.taskTimeoutMs;
  runner = new TaskRunner({ env: { cluster: 'c', node: 'n1', address: '127.0.0.1', dataRoot: join(dir, 'node'), backupDir: join(dir, 'backups'), services }, timeoutMs });
  spawn(process.execPath, [service, String(port), pidFile], { detached: true, stdio: 'ignore' }).unref();
  await waitFor(async () => (await healthz().catch(() => '')) === 'ok', 'the service standing for the kubelet answers');
});

afterAll(async () => {
  const pid = await runningPid().catch(() => undefined);
  if (pid) {
    try {
      process.kill(pid);
    } catch {
      // already gone
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('node.service-restart', () => {
  it('restarts the unit with its configured command and waits for its probe', async () => {
    const before = await runningPid();
    expect(Number(await healthz('/pid'))).toBe(before);
    const res = await restart('kubelet');
    expect(res.error).toBeUndefined();
    const out = checkResult('node.service-restart', res.output);
    if (!out.ok) throw new Error(out.error);
    const after = await runningPid();
    expect(after).not.toBe(before);
    expect(Number(await healthz('/pid'))).toBe(after);
    expect(out.value).toMatchObject({ unit: 'kubelet', exitCode: 0, stdoutTail: `restarted, was ${before}\n`, stderrTail: '', probeOk: true });
    // The new process listens 300 ms after it starts: the task waited for it rather than trusting the exit code.
    expect(out.value.waitedMs).toBeGreaterThanOrEqual(200);
    expect(out.value.waitedMs).toBeLessThan(10_000);
  });

  it('a restart command that fails is a failed task naming the unit, the exit code and its stderr', async () => {
    const res = await restart('containerd');
    expect(res.ok).toBe(false);
    expect(res.error).toBe(
      `containerd: restart command ${JSON.stringify(services[1]!.restart)} exited with code 3: Job for kubelet.service failed because the control process exited with error code.; See "systemctl status kubelet.service" for details.`,
    );
  });

  it('a restart command that hangs is killed at its timeout', async () => {
    const started = Date.now();
    const res = await restart('stuck');
    expect(res).toMatchObject({ ok: false, error: 'stuck: restart command ["sleep","30"] timed out after 300 ms' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a probe that does not answer within its wait is reported, after the wait', async () => {
    const res = await restart('no-answer');
    expect(res.ok).toBe(true);
    expect(res.output).toMatchObject({ unit: 'no-answer', exitCode: 0, probeOk: false });
    expect(res.output.waitedMs).toBeGreaterThanOrEqual(600);
  });

  it('a command that leaves a background child holding its output is done when it exits', async () => {
    const started = Date.now();
    const res = await restart('forking');
    expect(res).toMatchObject({ ok: true, output: { unit: 'forking', exitCode: 0, stdoutTail: 'started\n', probeOk: null, waitedMs: 0 } });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a unit that is not configured, naming it, and a unit name that is not one', async () => {
    expect(await restart('sshd')).toMatchObject({ ok: false, error: 'unit "sshd" may not be restarted on this node (agent.tasks.services: kubelet, containerd, stuck, no-answer, forking)' });
    expect(await restart('kubelet; reboot')).toMatchObject({ ok: false, error: expect.stringMatching(/^node\.service-restart: params\.unit: must be a unit name/) });
    const bare = new TaskRunner({ env: { cluster: 'c', node: 'n1', address: '127.0.0.1', dataRoot: dir, backupDir: dir } });
    expect(await bare.run({ id: 'x', cluster: 'c', node: 'n1', kind: 'node.service-restart', params: { unit: 'kubelet' }, createdAt: 0 })).toMatchObject({
      ok: false,
      error: 'unit "kubelet" may not be restarted on this node (agent.tasks.services: none configured)',
    });
  });
});

describe('agent.tasks.services config', () => {
  const parse = (services: unknown[]) => {
    const r = agentSchema.safeParse({ tasks: { services } });
    return r.success ? { ok: true as const, services: r.data.tasks.services } : { ok: false as const, problems: formatIssues(r.error.issues, 'agent') };
  };

  it('restarts with systemctl by default', () => {
    expect(parse([{ unit: 'kubelet' }])).toMatchObject({ ok: true, services: [{ unit: 'kubelet', restart: ['systemctl', 'restart', 'kubelet'], timeoutMs: 30_000 }] });
  });

  it('refuses bad units, duplicate units, unclear probes and waits longer than the task may run, naming the field', () => {
    expect(parse([{ unit: '../kubelet' }, { unit: 'crio', restart: [] }])).toEqual({
      ok: false,
      problems: [
        'agent.tasks.services.0.unit: must be a unit name like kubelet or containerd.service',
        expect.stringMatching(/^agent\.tasks\.services\.1\.restart: /),
      ],
    });
    expect(parse([{ unit: 'kubelet' }, { unit: 'kubelet' }])).toEqual({ ok: false, problems: ['agent.tasks.services.1.unit: "kubelet" is listed twice'] });
    expect(parse([{ unit: 'kubelet', probe: { url: 'http://127.0.0.1:10248/healthz', tcp: { host: '127.0.0.1', port: 10250 } } }])).toEqual({
      ok: false,
      problems: ['agent.tasks.services.0.probe: must give exactly one of url or tcp'],
    });
    expect(parse([{ unit: 'kubelet', probe: { url: 'http://127.0.0.1:10248/healthz', waitMs: 100_000 } }])).toEqual({
      ok: false,
      problems: ['agent.tasks.services.0.timeoutMs: timeoutMs + probe.waitMs + probe.timeoutMs (132000 ms) must be below taskTimeoutMs (120000 ms)'],
    });
  });
});
