// Approving a real plan from the console: two of three etcd members die, the quorum is lost, and
// Whistle proposes the restore plan and waits. An operator opens the incident in the console,
// sees the exact plan, and approves it in one browser page while a second page, left open on the
// same incident, follows the state change live (no reload) until the cluster is restored.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProposedPlan } from '../../remediators/policy/approvals.ts';
import { launchChromium, markPage, screenshot, signIn, stillSamePage } from '../console/browser.ts';
import { EtcdHarness, OPERATOR_TOKEN } from './harness.ts';
import { eventually } from './poll.ts';

const h = new EtcdHarness({ subnet: 69, members: 3, telemetryMs: 500 });
let browser: Browser;

beforeAll(async () => {
  await h.start();
  await h.bootstrap();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h.close();
});

async function stateOf(page: Page): Promise<string> {
  return (await page.locator('[data-testid="state"]').textContent()) ?? '';
}

describe('approving a restore plan in the console', () => {
  it('shows the plan, approves it, and the watching page follows the incident live to resolved', async () => {
    const snap = await h.api('POST', `/v1/etcd/${h.cluster}/snapshot`, {});
    expect(snap.status).toBe(200);
    await eventually('a quiet start', async () => (await h.incidentList()).every((i) => i.state === 'resolved'), 30_000);
    const killedAt = Date.now();
    h.killMember(1);
    h.killMember(2);
    const incident = await eventually(
      'quorum-lost incident awaiting approval',
      async () => (await h.incidentList()).find((i) => i.updatedAt >= killedAt && i.state === 'awaiting_approval'),
      60_000,
    );
    const plan = h.approvals.list({ incidentId: incident.id }).find((p) => p.state === 'awaiting_approval') as ProposedPlan;

    const watcher = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signIn(watcher, h.url, { token: OPERATOR_TOKEN });
    await watcher.goto(`${h.url}/console/incidents/${incident.id}`);
    expect(await stateOf(watcher)).toContain('awaiting approval');
    expect(await watcher.locator('.plan-text').first().textContent()).toBe(plan.text);
    await watcher.waitForSelector('body[data-live-connected="1"]');
    await markPage(watcher);
    await screenshot(watcher, 'incident-plan');

    const approver = await (await browser.newContext()).newPage();
    await signIn(approver, h.url, { token: OPERATOR_TOKEN });
    await approver.goto(`${h.url}/console/incidents/${incident.id}`);
    await approver.fill('input[name="comment"]', 'restore from the newest snapshot');
    await Promise.all([approver.waitForURL(`${h.url}/console/incidents/${incident.id}`), approver.click('[data-testid="approve"]')]);
    expect(h.approvals.get(plan.id).actor).toBe('tester');

    // The watching page: remediating, then resolved, without a reload.
    await watcher.waitForFunction(() => !document.querySelector('[data-testid="state"]')?.textContent?.includes('awaiting approval'), undefined, { timeout: 60_000 });
    expect(await stillSamePage(watcher)).toBe(true);
    await watcher.waitForFunction(() => document.querySelector('[data-testid="state"]')?.textContent?.includes('resolved'), undefined, { timeout: 150_000 });
    expect(await stillSamePage(watcher)).toBe(true);
    const timeline = await watcher.locator('#timeline').textContent();
    expect(timeline).toContain(`restore plan ${plan.id} approved by tester`);
    expect(timeline).toContain('etcd.restore');
    expect(await watcher.locator('[data-testid="approve"]').count()).toBe(0);
    await screenshot(watcher, 'incident-restored');
    const { body } = await h.api<{ entries?: unknown }>('GET', `/v1/plans/${plan.id}`);
    expect((body as unknown as { plan: ProposedPlan }).plan.state).toBe('succeeded');
    // The page showed the one plan there is: one quorum loss proposes one.
    expect(h.approvals.list({ incidentId: incident.id }).map((p) => p.id)).toEqual([plan.id]);
  }, 300_000);
});
