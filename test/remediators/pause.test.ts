// Pausing remediation per cluster and opting a node out, on a real Whistle: the CLI and the API
// pause a cluster, the policy then records `Paused` and acts on nothing, the pause survives a
// restart (it is read back from the actions table), and a resume lets the same request act. A node
// carrying `whistle.io/remediation: disabled` (label or annotation) is left alone likewise.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { program } from '../../cli/main.ts';
import type { IncidentView } from '../../core/pipeline.ts';
import type { JsonAnswer } from '../../ingest/kube/api-client.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { NodeOptOut } from '../../remediators/policy/node-opt-out.ts';
import { policySchema } from '../../remediators/policy/config.ts';
import { RemediationPolicy, type RemediationRequest } from '../../remediators/policy/policy.ts';
import { ActionRecorder } from '../../remediators/policy/recorder.ts';
import { remediationServices } from '../../remediators/services.ts';
import { OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const dir = mkdtempSync(join(tmpdir(), 'whistle-pause-'));
let t: TestWhistle;

const incident: IncidentView = {
  id: 'inc-pause-test',
  fingerprint: 'fp-pause-test',
  cluster: 'c1',
  detector: 'kubelet-down',
  subject: 'n1',
  severity: 'critical',
  state: 'open',
  summary: 'kubelet on n1 not answering',
  openedAt: Date.now(),
  updatedAt: Date.now(),
  labels: { node: 'n1' },
  evidence: { node: 'n1' },
};

function request(acted: string[], node = 'n1'): RemediationRequest {
  return { incident, target: `node/c1/${node}`, node, kind: 'test.restart', unhealthy: 0, total: 3, plan: `restart on ${node}`, actor: 'pause-test', act: async () => void acted.push(node), verify: async () => true };
}

/** Runs `whistle ...` in-process and returns what it printed. */
async function cli(...args: string[]): Promise<string> {
  const out: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    await program().parseAsync(['node', 'whistle', ...args, '--server', t.url, '--token', OPERATOR_TOKEN]);
  } finally {
    log.mockRestore();
  }
  return out.join('\n');
}

const start = () => startTestWhistle({ detectors: { tickMs: 60_000 } }, { dir });

beforeAll(async () => {
  t = await start();
}, 60_000);

afterEach(() => vi.restoreAllMocks());

afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

describe('remediation pause', () => {
  it('paused with the CLI: nothing acts and Paused is recorded; still paused after a restart; resumed through the API, it acts', async () => {
    expect(await cli('remediation', 'pause', 'c1', '--reason', 'upgrading the nodes by hand')).toBe('remediation on c1: paused (upgrading the nodes by hand)');
    const acted: string[] = [];
    expect(await t.whistle.service(remediationServices.policy).remediate(request(acted))).toBe('paused');
    expect(acted).toEqual([]);
    const skipped = (await t.whistle.service(remediationServices.recorder).list({ incidentId: incident.id })).find((a) => a.reason === 'Paused');
    expect(skipped).toMatchObject({ state: 'skipped', kind: 'test.restart', detail: { message: 'remediation is paused on c1 (whistle remediation resume c1)' } });

    await t.stop({ keepDir: true });
    t = await start();
    const shown = await cli('remediation', 'status');
    expect(shown).toMatch(/^c1\s+paused\s+test-operator\s+.*upgrading the nodes by hand$/m);
    expect(await t.whistle.service(remediationServices.policy).remediate(request(acted))).toBe('paused');
    expect(acted).toEqual([]);

    const res = await t.operator('POST', '/v1/remediation/c1/resume', {});
    expect(res.status).toBe(200);
    expect(((await res.json()) as { state: { paused: boolean; actor: string } }).state).toMatchObject({ paused: false, actor: 'test-operator' });
    expect(await t.whistle.service(remediationServices.policy).remediate(request(acted))).toBe('succeeded');
    expect(acted).toEqual(['n1']);
    expect(await cli('remediation', 'status', '--json')).toContain('"paused": false');
  }, 120_000);

  it('refuses a cluster that is not configured, naming it', async () => {
    const res = await t.operator('POST', '/v1/remediation/nope/pause', {});
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('cluster nope is not configured');
  });
});

describe('node opt-out', () => {
  it('a node marked whistle.io/remediation: disabled (label or annotation), or one that cannot be read, is left alone; others are acted on', async () => {
    // The cluster's API as NodeOps would read it: what the API server answers for each node.
    const nodes: Record<string, JsonAnswer<unknown>> = {
      labelled: { ok: true, status: 200, value: { metadata: { name: 'labelled', labels: { 'whistle.io/remediation': 'disabled' } } } },
      annotated: { ok: true, status: 200, value: { metadata: { name: 'annotated', annotations: { 'whistle.io/remediation': 'disabled' } } } },
      plain: { ok: true, status: 200, value: { metadata: { name: 'plain', labels: { 'whistle.io/remediation': 'enabled' } } } },
      unreadable: { ok: false, status: 403, error: { message: 'nodes "unreadable" is forbidden' } },
    };
    const api = {
      send: async <T>(_method: string, path: string): Promise<JsonAnswer<T>> => (nodes[path.split('/').pop()!] ?? { ok: false, status: 404, error: { message: 'not found' } }) as JsonAnswer<T>,
    };
    const optOut = new NodeOptOut(new Map([['c1', api]]));
    const recorder = new ActionRecorder(t.whistle.store);
    const policy = new RemediationPolicy(policySchema.parse({ rateLimit: { maxActions: 100 } }), recorder, t.whistle.service(incidentServices.manager), undefined, pino({ level: 'silent' }), {
      nodeOptOut: (cluster, node) => optOut.check(cluster, node),
    });
    const acted: string[] = [];
    expect(await policy.remediate(request(acted, 'labelled'))).toBe('opted_out');
    expect(await policy.remediate(request(acted, 'annotated'))).toBe('opted_out');
    expect(await policy.remediate(request(acted, 'unreadable'))).toBe('opted_out');
    expect(await policy.remediate(request(acted, 'plain'))).toBe('succeeded');
    expect(await policy.remediate(request(acted, 'not-a-kube-node'))).toBe('succeeded');
    expect(acted).toEqual(['plain', 'not-a-kube-node']);
    const reasons = (await recorder.list({ incidentId: incident.id })).filter((a) => a.reason === 'NodeOptedOut').map((a) => a.detail.message).sort();
    expect(reasons).toEqual([
      'node annotated: has the annotation whistle.io/remediation: disabled',
      'node labelled: has the label whistle.io/remediation=disabled',
      'node unreadable: its whistle.io/remediation mark could not be read: 403 nodes "unreadable" is forbidden',
    ]);
  }, 60_000);
});
