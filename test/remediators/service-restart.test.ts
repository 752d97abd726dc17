// service-restart end to end: a real HTTP service stands for the kubelet (a node process writing
// its pid to a file), a real in-process agent probes its /healthz and has it as its `kubelet` unit,
// restarted by a script that really starts a new one. Killing the service opens a kubelet-down
// incident; the remediator restarts it through the agent, and only the agent's next probe sample
// saying up resolves the incident.
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { parseConfig } from '../../app/config.ts';
import { ingestServices } from '../../ingest/services.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { remediationServices } from '../../remediators/services.ts';
import { freePort } from '../harness/ports.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const NODE = 'kubelet-node';

// Listens after a short delay, as a real daemon takes a moment to come up.
const SERVICE = `
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
const [port, pidFile] = process.argv.slice(2);
writeFileSync(pidFile, String(process.pid));
setTimeout(() => {
  createServer((req, res) => res.end(req.url === '/healthz' ? 'ok' : String(process.pid))).listen(Number(port), '127.0.0.1');
}, 300);
`;

// restart.sh PIDFILE PORT NODE SERVICE LOG: stop the service if it still runs, start a new one detached.
const RESTART = `#!/bin/sh
old=$(cat "$1")
if kill "$old" 2>/dev/null; then
  while kill -0 "$old" 2>/dev/null; do sleep 0.05; done
fi
nohup "$3" "$4" "$2" "$1" >>"$5" 2>&1 </dev/null &
echo "started, was $old"
`;

let dir: string;
let port: number;
let pidFile: string;
let t: TestWhistle;
let agent: NodeAgent;
/** Every state each incident went through, as its events said: resolved ones leave memory at the next refresh here (reopenWindowMs 0). */
const states = new Map<string, string[]>();
const reached = (id: string, state: string, what: string) => eventually(async () => states.get(id)?.includes(state), what, 60_000, 100);
let service: string;

const runningPid = async () => Number(await readFile(pidFile, 'utf8'));
const answers = async () => (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.text()).catch(() => '')) === 'ok';

async function script(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  await chmod(path, 0o755);
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whistle-heal-kubelet-'));
  port = await freePort();
  pidFile = join(dir, 'kubelet.pid');
  service = await script('kubelet.mjs', SERVICE);
  const restart = await script('restart.sh', RESTART);
  spawn(process.execPath, [service, String(port), pidFile], { detached: true, stdio: 'ignore' }).unref();
  await eventually(answers, 'the service standing for the kubelet answers', 10_000);
  t = await startTestWhistle({
    detectors: onlyDetectors({ kubeletDown: { forMs: 1_000, freshMs: 5_000, lookbackMs: 60_000 } }, { tickMs: 500 }),
    // A new outage is a new incident, not the resolved one reopened.
    incidents: { reopenWindowMs: 0, refreshMs: 1_000 },
    // One node: the default 40 % of one node is none.
    // A restart that does not bring the kubelet back is tried once more, then a person gets it.
    remediation: {
      maxUnhealthy: 1,
      serviceRestart: { verifyTimeoutMs: 15_000, verifyIntervalMs: 200 },
      chains: { 'kubelet-down': [{ remediator: 'service-restart', timeoutMs: 10_000 }, { remediator: 'service-restart' }] },
    },
  });
  const healthz = `http://127.0.0.1:${port}/healthz`;
  t.whistle.service(incidentServices.manager).subscribe({ onIncidentEvent: async (e) => void states.set(e.incident.id, [...(states.get(e.incident.id) ?? []), e.incident.state]) });
  const cfg = parseConfig({
    agent: {
      server: t.url,
      cluster: 'c1',
      node: NODE,
      joinToken: JOIN_TOKEN,
      intervalMs: 500,
      stateDir: join(dir, 'agent'),
      // No filesystems: this test is about the probe.
      excludeMountPoints: '.',
      probes: { http: [{ name: 'kubelet', url: healthz, timeoutMs: 500 }] },
      tasks: {
        enabled: true,
        etcdMember: false,
        services: [{ unit: 'kubelet', restart: [restart, pidFile, String(port), process.execPath, service, join(dir, 'kubelet.log')], timeoutMs: 10_000, probe: { url: healthz, waitMs: 3_000, intervalMs: 100 } }],
      },
    },
  }).agent;
  agent = createNodeAgent(cfg, { logger: pino({ level: 'silent' }) });
  await agent.start();
  await eventually(async () => t.whistle.service(ingestServices.nodes).get('c1', NODE), 'agent registration');
  expect((await t.operator('POST', `/v1/nodes/c1/${NODE}/authorize`)).status).toBe(200);
  await eventually(
    async () => (await t.whistle.store.query<{ v: number }>("SELECT argMax(value, ts) AS v FROM samples WHERE node = {node:String} AND name = 'probe_http_up'", { node: NODE }))[0]?.v === 1,
    'the kubelet probe up in telemetry',
    30_000,
    200,
  );
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await t?.stop();
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

describe('service-restart remediator', () => {
  it('the kubelet dies: incident, restart through the agent, the next probe sample up, resolved', async () => {
    const killed = await runningPid();
    const faultAt = Date.now();
    process.kill(killed, 'SIGKILL');
    const manager = t.whistle.service(incidentServices.manager);
    const inc = await eventually(async () => manager.current().find((i) => i.detector === 'kubelet-down' && i.subject === NODE), 'a kubelet-down incident', 30_000, 100);
    const detectedAt = Date.now();
    await reached(inc.id, 'resolved', 'the incident resolved by the restart');
    const healedAt = Date.now();
    console.log(JSON.stringify({ kind: 'service-restart', detect_s: (detectedAt - faultAt) / 1000, heal_s: (healedAt - faultAt) / 1000 }));

    // A new process answers: the command really restarted it.
    expect(await runningPid()).not.toBe(killed);
    expect(await answers()).toBe(true);
    const actions = await t.whistle.service(remediationServices.recorder).list({ incidentId: inc.id });
    const done = actions.find((a) => a.kind === 'node.service-restart' && a.state === 'succeeded');
    expect(done, JSON.stringify(actions)).toBeDefined();
    expect(done!.detail.after).toMatchObject({ unit: 'kubelet', exitCode: 0, probeOk: true, stdoutTail: `started, was ${killed}\n` });
    const shown = JSON.stringify(await (await t.operator('GET', `/v1/incidents/${inc.id}`)).json());
    expect(shown).toContain('restart kubelet: exit code 0, probe answered after');
    expect(shown).toContain('its kubelet probe is up (sample of');
  }, 120_000);

  it('a kubelet the restart cannot bring back: the probe stays down, the chain restarts it once more, then the incident is escalated with both steps tried', async () => {
    const manager = t.whistle.service(incidentServices.manager);
    // A detector tick that began before the first restart's samples can report the old outage after
    // the resolve: wait until three ticks (1.5 s) passed with nothing open, so the next incident is this one.
    let quietSince = Date.now();
    await eventually(async () => {
      if (manager.current().some((i) => i.detector === 'kubelet-down' && i.state !== 'resolved')) quietSince = Date.now();
      return Date.now() - quietSince >= 1_500;
    }, 'no open kubelet-down incident for three ticks', 30_000);
    // From now on the binary is broken: every new process exits before it listens.
    await writeFile(service, `import { writeFileSync } from 'node:fs';\nwriteFileSync(process.argv[3], String(process.pid));\nprocess.exit(1);\n`);
    const known = new Set(manager.current().map((i) => i.id));
    const faultAt = Date.now();
    process.kill(await runningPid(), 'SIGKILL');
    const inc = await eventually(async () => manager.current().find((i) => i.detector === 'kubelet-down' && i.subject === NODE && !known.has(i.id)), 'a new kubelet-down incident', 30_000, 100);
    await reached(inc.id, 'escalated', 'the incident escalated');
    console.log(JSON.stringify({ kind: 'service-restart', escalated_s: (Date.now() - faultAt) / 1000 }));
    expect(await answers()).toBe(false);
    const actions = await t.whistle.service(remediationServices.recorder).list({ incidentId: inc.id });
    const notFixed = actions.filter((a) => a.kind === 'node.service-restart' && a.state === 'failed');
    expect(notFixed, JSON.stringify(actions)).toHaveLength(2);
    for (const a of notFixed) expect(a).toMatchObject({ reason: 'NotFixed', detail: { after: { unit: 'kubelet', exitCode: 0, probeOk: false } } });
    // The history line follows the state change.
    const escalation = await eventually(async () => {
      const shown = (await (await t.operator('GET', `/v1/incidents/${inc.id}`)).json()) as { history: { kind: string; reason: string; detail: { tried?: string } }[] };
      const handover = shown.history.find((h) => h.kind === 'handover');
      const last = shown.history.find((h) => h.kind === 'escalation');
      return handover && last ? { handover, last } : null;
    }, 'the hand-over and the escalation in the incident history', 10_000);
    expect(escalation.handover.reason).toBe('step 1 (service-restart) did not fix it: the action ran but the problem is still there; handing over to step 2 (service-restart)');
    expect(escalation.last.reason).toBe('the action ran but the problem is still there');
    const tried = escalation.last.detail.tried ?? '';
    expect(tried).toMatch(/^step 1 \(service-restart, node\.service-restart\): the action ran but the problem is still there\nnode\.service-restart on kubelet-node:\n {2}- restart kubelet: exit code 0, probe did not answer within \d+ ms/);
    expect(tried).toMatch(/\nstep 2 \(service-restart, node\.service-restart\): the action ran but the problem is still there\nnode\.service-restart on kubelet-node:\n {2}- restart kubelet: exit code 0, probe did not answer/);
  }, 120_000);
});
