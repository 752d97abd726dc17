// disk-cleanup end to end on a real filesystem: a 20 MiB ext4 image this test loop-mounts (the
// agent reports no tmpfs, as node-exporter does not), a real in-process agent with tasks enabled
// and one cleanup step (rotated logs under a directory on that filesystem), reporting only that
// mount. Filled over the low-disk threshold with old rotated logs, the incident opens, the cleanup
// runs, the next samples are under the target and the incident resolves; filled with files no step
// may touch, the cleanup frees nothing and the incident is escalated to a ticket naming the steps.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { parseConfig } from '../../app/config.ts';
import type { IncidentRecord } from '../../remediators/incidents/model.ts';
import { ingestServices } from '../../ingest/services.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { remediationServices } from '../../remediators/services.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, JOIN_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
import { JiraStandin } from '../standins/jira.ts';

const MiB = 1024 ** 2;
const NODE = 'disk-node';
const JIRA = { email: 'whistle@example.com', token: 'jira-test-token' };

let dir: string;
let mnt: string;
let logs: string;
let t: TestWhistle;
let agent: NodeAgent;
/** Every state each incident went through, as its events said: resolved ones leave memory at the next refresh here (reopenWindowMs 0). */
const states = new Map<string, string[]>();
const reached = (id: string, state: string, what: string) => eventually(async () => states.get(id)?.includes(state), what, 60_000, 100);
const jira = new JiraStandin(JIRA.email, JIRA.token);

/** `count` files of 1 MiB, two days old. */
async function fill(names: (i: number) => string, count: number): Promise<void> {
  const old = new Date(Date.now() - 2 * 86_400_000);
  for (let i = 1; i <= count; i++) {
    const p = join(logs, names(i));
    await writeFile(p, Buffer.alloc(MiB, 7));
    await utimes(p, old, old);
  }
}

async function emptyLogs(): Promise<void> {
  for (const f of await readdir(logs)) await rm(join(logs, f), { force: true });
}

/** The first low-disk incident for the mount that is not one of `known`. */
function lowDiskIncident(known: ReadonlySet<string> = new Set()): Promise<IncidentRecord> {
  const manager = t.whistle.service(incidentServices.manager);
  return eventually(async () => manager.current().find((i) => i.detector === 'low-disk' && !known.has(i.id) && i.subject === `${NODE}:${mnt}:bytes`), 'a low-disk incident for the mount', 30_000, 100);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whistle-heal-disk-'));
  mnt = join(dir, 'mnt');
  await mkdir(mnt);
  execFileSync('truncate', ['-s', '20M', join(dir, 'disk.img')]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', join(dir, 'disk.img')], { stdio: 'pipe' });
  execFileSync('mount', ['-o', 'loop', join(dir, 'disk.img'), mnt], { stdio: 'pipe' });
  logs = join(mnt, 'log');
  await mkdir(logs);
  await jira.start();
  t = await startTestWhistle({
    detectors: onlyDetectors({ lowDisk: { minSizeBytes: 0, ignoreFsTypes: [], freshMs: 5_000 } }, { tickMs: 500 }),
    // A new fill is a new incident, not the resolved one reopened.
    incidents: { reopenWindowMs: 0, refreshMs: 1_000 },
    notifications: {
      groupWaitMs: 0,
      tickMs: 200,
      retry: { initialMs: 100, maxMs: 1_000 },
      channels: [{ type: 'jira', id: 'jira', url: jira.url, email: JIRA.email, apiToken: JIRA.token, project: 'OPS' }],
    },
    // One node: the default 40 % of one node is none.
    remediation: { maxUnhealthy: 1, diskCleanup: { targetUsedPercent: 70, verifyTimeoutMs: 15_000, verifyIntervalMs: 200 } },
  });
  t.whistle.service(incidentServices.manager).subscribe({ onIncidentEvent: async (e) => void states.set(e.incident.id, [...(states.get(e.incident.id) ?? []), e.incident.state]) });
  const cfg = parseConfig({
    agent: {
      server: t.url,
      cluster: 'c1',
      node: NODE,
      joinToken: JOIN_TOKEN,
      intervalMs: 500,
      stateDir: join(dir, 'agent'),
      // This machine's other filesystems are not this test's business.
      excludeMountPoints: `^(?!${mnt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$)`,
      tasks: { enabled: true, etcdMember: false, diskCleanup: { steps: [{ kind: 'rotated-logs', directories: [logs], olderThanHours: 1 }] } },
    },
  }).agent;
  agent = createNodeAgent(cfg, { logger: pino({ level: 'silent' }) });
  await agent.start();
  await eventually(async () => t.whistle.service(ingestServices.nodes).get('c1', NODE), 'agent registration');
  expect((await t.operator('POST', `/v1/nodes/c1/${NODE}/authorize`)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await agent?.stop();
  await t?.stop();
  await jira.stop().catch(() => undefined);
  if (mnt) {
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    }
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('disk-cleanup remediator', () => {
  it('old rotated logs fill the disk: incident, cleanup, bytes freed recorded, next samples under the target, resolved', async () => {
    const faultAt = Date.now();
    await fill((i) => `app.log.${i}`, 16);
    const inc = await lowDiskIncident();
    const detectedAt = Date.now();
    await reached(inc.id, 'resolved', 'the incident resolved by the cleanup');
    const healedAt = Date.now();
    console.log(JSON.stringify({ kind: 'disk-cleanup', detect_s: (detectedAt - faultAt) / 1000, heal_s: (healedAt - faultAt) / 1000 }));
    expect(states.get(inc.id)!.slice(0, 3)).toEqual(['open', 'remediating', 'resolved']);

    const actions = await t.whistle.service(remediationServices.recorder).list({ incidentId: inc.id });
    const done = actions.find((a) => a.kind === 'node.disk-cleanup' && a.state === 'succeeded');
    expect(done, JSON.stringify(actions)).toBeDefined();
    const after = done!.detail.after as { targetReached: boolean; before: { usedRatio: number }; after: { usedRatio: number }; steps: { kind: string; bytesFreed: number; filesDeleted: number }[] };
    expect(after.targetReached).toBe(true);
    expect(after.before.usedRatio).toBeGreaterThan(0.85);
    expect(after.after.usedRatio).toBeLessThan(0.7);
    expect(after.steps).toHaveLength(1);
    expect(after.steps[0]).toMatchObject({ kind: 'rotated-logs' });
    expect(after.steps[0]!.bytesFreed).toBeGreaterThanOrEqual(3 * MiB);
    // Oldest first, only as many as needed: some rotated logs are still there.
    const left = await readdir(logs);
    expect(left.length).toBeGreaterThan(0);
    expect(left.length).toBe(16 - after.steps[0]!.filesDeleted);

    const shown = JSON.stringify(await (await t.operator('GET', `/v1/incidents/${inc.id}`)).json());
    expect(shown).toContain('rotated-logs: freed');
    expect(shown).toContain('after the cleanup');
    await emptyLogs();
  }, 120_000);

  it('files no step may touch fill the disk: the cleanup frees nothing and the incident is escalated with the steps tried', async () => {
    // A detector tick that began before the first cleanup's samples can report the old level after
    // the resolve, opening an incident that the remediator then heals at once: wait until three
    // ticks (1.5 s) passed with nothing open, so this fill's incident is the only new one.
    const manager = t.whistle.service(incidentServices.manager);
    let quietSince = Date.now();
    await eventually(async () => {
      if (manager.current().some((i) => i.detector === 'low-disk' && i.state !== 'resolved')) quietSince = Date.now();
      return Date.now() - quietSince >= 1_500;
    }, 'no open low-disk incident for three ticks', 30_000);
    const known = new Set(manager.current().map((i) => i.id));
    const faultAt = Date.now();
    await fill((i) => `data-${i}.bin`, 16);
    const inc = await lowDiskIncident(known);
    await reached(inc.id, 'escalated', 'the incident escalated');
    const escalatedAt = Date.now();
    console.log(JSON.stringify({ kind: 'disk-cleanup', escalated_s: (escalatedAt - faultAt) / 1000 }));

    const actions = await t.whistle.service(remediationServices.recorder).list({ incidentId: inc.id });
    const notFixed = actions.find((a) => a.kind === 'node.disk-cleanup' && a.state === 'failed');
    expect(notFixed?.reason).toBe('NotFixed');
    expect((notFixed!.detail.after as { steps: { kind: string; bytesFreed: number }[] }).steps).toEqual([expect.objectContaining({ kind: 'rotated-logs', bytesFreed: 0, filesDeleted: 0 })]);
    expect((await readdir(logs)).length).toBe(16);

    const ticket = await eventually(async () => [...jira.issues.values()].find((i) => [i.fields.description, ...i.comments].some((d) => String(d).includes('rotated-logs: freed 0.0 MiB (0 files)'))), 'a ticket naming the steps tried', 15_000, 100);
    const text = [ticket.fields.description, ...ticket.comments].join('\n');
    expect(text).toContain('the action ran but the problem is still there');
    expect(text).toContain('target 70.0% not reached');
  }, 120_000);
});
