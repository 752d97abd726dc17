// The remediation policy's gates, each recorded: dry run, max-unhealthy (TooManyUnhealthy), one
// action at a time per target (SubjectBusy), rate limit per cluster, and escalation to a ticket when
// the action fails or does not fix the problem. On a real chDB store: the lock and the rate limit
// are read back from its actions table (remediators/policy/claims.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentView } from '../../core/pipeline.ts';
import type { IncidentState } from '../../core/types.ts';
import { policySchema } from '../../remediators/policy/config.ts';
import { RemediationPolicy, type RemediationRequest } from '../../remediators/policy/policy.ts';
import type { IncidentPort, TicketPort } from '../../remediators/policy/ports.ts';
import { ActionRecorder } from '../../remediators/policy/recorder.ts';
import { openStore } from '../../store/open-store.ts';
import type { Store } from '../../store/store.ts';
import { testConfig } from '../helpers/whistle.ts';

const dir = mkdtempSync(join(tmpdir(), 'whistle-policy-'));
let store: Store;
let cases = 0;

beforeAll(async () => {
  store = await openStore(testConfig(dir).store);
});

afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

/** The incident stage as the policy sees it, holding one open incident (its own cluster, so each case has its own rate limit). */
class OneIncident implements IncidentPort {
  private readonly n = ++cases;
  readonly incident: IncidentView = { id: `inc-${this.n}`, fingerprint: 'fp', cluster: `c${this.n}`, detector: 'etcd-quorum', subject: 'quorum', severity: 'warning', state: 'open', summary: 's', openedAt: 0, updatedAt: 0, labels: {}, evidence: {} };
  readonly history: string[] = [];
  async transition(_id: string, state: IncidentState): Promise<void> {
    this.incident.state = state;
  }
  async appendHistory(_id: string, e: { kind: string; message: string }): Promise<void> {
    this.history.push(`${e.kind}: ${e.message}`);
  }
  isSuppressed(): boolean {
    return false;
  }
}

class RecordingTickets implements TicketPort {
  readonly tickets: { incident: IncidentView; plan: string }[] = [];
  async openTicket(incident: IncidentView, plan: string): Promise<void> {
    this.tickets.push({ incident, plan });
  }
}

async function setup(cfg: Record<string, unknown> = {}) {
  const incidents = new OneIncident();
  const tickets = new RecordingTickets();
  const policy = new RemediationPolicy(policySchema.parse(cfg), new ActionRecorder(store), incidents, tickets, pino({ level: 'silent' }));
  const incident = incidents.incident;
  let acted = 0;
  const req = (over: Partial<RemediationRequest> = {}): RemediationRequest => ({
    incident,
    target: `etcd/${incident.cluster}`,
    kind: 'etcd.member-replace',
    unhealthy: 1,
    total: 3,
    plan: 'replace n2',
    actor: 'test',
    act: async () => void acted++,
    verify: async () => true,
    ...over,
  });
  const rows = () => store.query<{ state: string; reason: string; dry_run: number }>(`SELECT state, reason, dry_run FROM actions WHERE incident_id = {id:String} ORDER BY ts`, { id: incident.id });
  return { incidents, tickets, policy, incident, req, rows, acted: () => acted };
}

const states = (rows: { state: string; reason: string }[]) => rows.map((r) => `${r.state}:${r.reason}`);

describe('remediation policy', () => {
  it('dry run records the plan and changes nothing', async () => {
    const t = await setup({ dryRun: true });
    expect(await t.policy.remediate(t.req())).toBe('dry_run');
    expect(t.acted()).toBe(0);
    expect(states(await t.rows())).toEqual(['skipped:DryRun']);
    expect(Number((await t.rows())[0]!.dry_run)).toBe(1);
  });

  it('too many unhealthy: does nothing and records TooManyUnhealthy', async () => {
    const t = await setup({ maxUnhealthy: '40%' });
    expect(await t.policy.remediate(t.req({ unhealthy: 2, total: 3 }))).toBe('too_many_unhealthy');
    expect(t.acted()).toBe(0);
    expect(states(await t.rows())).toEqual(['skipped:TooManyUnhealthy']);
  });

  it('one action at a time per target', async () => {
    const t = await setup();
    let release!: () => void;
    let acting!: () => void;
    const running = new Promise<void>((r) => (acting = r));
    const first = t.policy.remediate(
      t.req({
        act: () => {
          acting();
          return new Promise<void>((r) => (release = r));
        },
      }),
    );
    await running;
    expect(await t.policy.remediate(t.req())).toBe('busy');
    release();
    expect(await first).toBe('succeeded');
    expect(states(await t.rows())).toEqual(expect.arrayContaining(['skipped:SubjectBusy', 'started:remediating', 'succeeded:verified']));
  });

  it('rate limit per cluster', async () => {
    const t = await setup({ rateLimit: { maxActions: 2, windowS: 600 } });
    expect(await t.policy.remediate(t.req())).toBe('succeeded');
    expect(await t.policy.remediate(t.req())).toBe('succeeded');
    expect(await t.policy.remediate(t.req())).toBe('rate_limited');
    expect(t.acted()).toBe(2);
  });

  it('escalates to a ticket when the action fails or does not fix it', async () => {
    const t = await setup();
    expect(await t.policy.remediate(t.req({ act: async () => Promise.reject(new Error('boom')) }))).toBe('failed');
    expect(t.incident.state).toBe('escalated');
    expect(t.tickets.tickets[0]!.plan).toContain('the action failed: boom');
    const u = await setup();
    expect(await u.policy.remediate(u.req({ verify: async () => false }))).toBe('not_fixed');
    expect(u.tickets.tickets[0]!.plan).toContain('still there');
    expect(states(await u.rows())).toContain('failed:NotFixed');
  });
});
