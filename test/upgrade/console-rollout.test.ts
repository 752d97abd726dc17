// The cluster page's rollouts in a real browser (headless Chromium) against a Whistle built from
// config, on a real control plane (kube-apiserver, controller-manager, scheduler, kwok workers)
// with a real agent per node: the operator picks a release, reads the engine's plan, starts the
// rollout, and pauses, resumes and aborts it while the first node's install is held (the install
// script waits on a file the test controls), each button fitting the rollout's state.
import { existsSync, mkdtempSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NodeAgent } from '../../agent/node-agent.ts';
import type { Rollout } from '../../bootstrap/upgrade/rollout-store.ts';
import { launchChromium, screenshot, signIn } from '../console/browser.ts';
import { startKubeCluster, type KubeCluster } from '../harness/kube/cluster.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, JOIN_TOKEN, OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
import { KUBELET_RELEASES, startReportingAgents, versionFile } from './helpers.ts';

const NODES = ['worker-0', 'worker-1'];

let dir: string;
let cluster: KubeCluster;
let t: TestWhistle;
let browser: Browser;
let page: Page;
const agents: NodeAgent[] = [];

const rollouts = async () => ((await (await t.operator('GET', '/v1/upgrades?cluster=c1')).json()) as { rollouts: Rollout[] }).rollouts;
const audited = async (action: string) =>
  (await t.whistle.store.query<{ actor: string; subject: string; detail: string }>('SELECT actor, subject, detail FROM audit_log WHERE action = {action:String} ORDER BY ts', { action })).map((r) => ({
    ...r,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  }));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'whistle-console-rollout-'));
  cluster = await startKubeCluster({ nodes: 0 });
  await cluster.createFakeNodes(NODES.length, { prefix: 'worker' });
  t = await startTestWhistle(
    {
      clusters: [{ name: 'c1', joinToken: JOIN_TOKEN, kubeconfig: cluster.kubeconfigPath }],
      detectors: onlyDetectors({ agentSilent: {}, kubeletDown: {}, nodeNotReady: {} }, { tickMs: 1_000 }),
      upgrades: {
        ...KUBELET_RELEASES,
        soakMs: 500,
        tickMs: 200,
        drainTimeoutMs: 30_000,
        installTimeoutMs: 60_000,
        readyTimeoutMs: 30_000,
      },
    },
    { dir: join(dir, 'whistle') },
  );
  agents.push(...(await startReportingAgents(t, { dir, nodes: NODES, release: '2026.12' })));
  // The first node's install waits until the test lets it go: the rollout stays in progress.
  for (const node of NODES) await writeFile(`${versionFile(dir, node)}.hold`, '');
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await signIn(page, t.url, { token: OPERATOR_TOKEN });
}, 240_000);

afterAll(async () => {
  if (dir) for (const node of NODES) await rm(`${versionFile(dir, node)}.hold`, { force: true });
  await browser?.close();
  await Promise.allSettled(agents.map((a) => a.stop()));
  await t?.stop();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function act(testid: string): Promise<string> {
  await Promise.all([page.waitForURL(/\/console\/clusters\/c1\?done=/), page.click(`[data-testid="${testid}"]`)]);
  return (await page.locator('.flash').textContent())!;
}

describe('rollouts on the cluster page', () => {
  it('shows the plan of a release, the same text the API answers, and starts the rollout', async () => {
    await page.goto(`${t.url}/console/clusters/c1`);
    expect(await page.locator('#rollouts').textContent()).toContain('No rollout yet.');
    await page.selectOption('[data-testid="release"]', '2026.12');
    await Promise.all([page.waitForURL(/\/console\/clusters\/c1\/upgrade\?release=2026\.12/), page.click('[data-testid="show-plan"]')]);
    const shown = await page.locator('[data-testid="upgrade-plan"]').textContent();
    const api = (await (await t.operator('POST', '/v1/upgrades/plan', { cluster: 'c1', release: '2026.12' })).json()) as { text: string };
    expect(shown).toBe(api.text);
    expect(shown).toContain('Upgrade c1 from 2026.11 to 2026.12');
    for (const node of NODES) expect(shown).toContain(`${node} (worker): kubelet 1.33.5 -> 1.34.4`);
    expect(await rollouts()).toEqual([]);
    await screenshot(page, 'upgrade-plan');
    await Promise.all([page.waitForURL(/\/console\/clusters\/c1\?done=/), page.click('[data-testid="start-rollout"]')]);
    const [r] = await rollouts();
    expect(r).toMatchObject({ release: '2026.12', state: 'running', createdBy: 'test-operator' });
    expect(await page.locator('.flash').textContent()).toBe(`rollout ${r!.id} of 2026.12 started`);
    // A second start is refused while this one is in progress: the button says why, the form is answered 409.
    expect(await page.locator('[data-testid="show-plan"]').isDisabled()).toBe(true);
  });

  it('pauses, resumes and aborts it, offering only the buttons that fit its state', async () => {
    const [r] = await rollouts();
    // The first batch's install is under way (held by the test).
    await eventually(async () => NODES.some((n) => existsSync(`${versionFile(dir, n)}.running`)), 'an install running', 60_000, 100);
    await page.goto(`${t.url}/console/clusters/c1`);
    const row = page.locator(`tr[data-rollout="${r!.id}"]`);
    expect(await row.locator('[data-testid="rollout-state"]').textContent()).toBe('running');
    expect(await row.locator('[data-testid="rollout-resume"]').count()).toBe(0);
    await row.locator('input[name="reason"]').fill('a customer demo at 15:00');
    expect(await act('rollout-pause')).toBe(`rollout ${r!.id}: paused`);
    expect(await row.locator('[data-testid="rollout-state"]').textContent()).toBe('paused');
    expect(await row.textContent()).toContain('paused by test-operator: a customer demo at 15:00');
    expect(await row.locator('[data-testid="rollout-pause"]').count()).toBe(0);
    await screenshot(page, 'rollout-paused');
    expect((await rollouts())[0]).toMatchObject({ state: 'paused' });
    expect(await act('rollout-resume')).toBe(`rollout ${r!.id}: running`);
    expect((await rollouts())[0]).toMatchObject({ state: 'running' });
    expect(await act('rollout-abort')).toBe(`rollout ${r!.id}: aborted`);
    expect(await row.locator('[data-testid="rollout-state"]').textContent()).toBe('aborted');
    expect(await row.locator('button').count()).toBe(0);
    expect(await page.locator('[data-testid="show-plan"]').isDisabled()).toBe(false);
    await screenshot(page, 'rollout-aborted');
    expect((await rollouts())[0]).toMatchObject({ state: 'aborted' });
    for (const [action, reason] of [['upgrades.start', undefined], ['upgrades.pause', 'a customer demo at 15:00'], ['upgrades.resume', ''], ['upgrades.abort', '']] as const) {
      expect(await audited(action), action).toEqual([expect.objectContaining({ actor: 'test-operator', subject: r!.id, detail: expect.objectContaining({ via: 'console', ...(reason !== undefined ? { reason } : {}) }) })]);
    }
  });

  it('refuses a form on a finished rollout with the reason, naming the field', async () => {
    const [r] = await rollouts();
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const res = await page.request.post(`${t.url}/console/rollouts/${r!.id}/resume`, { form: { _csrf: csrf }, maxRedirects: 0 });
    expect(res.status()).toBe(409);
    expect(await res.text()).toContain(`id: rollout ${r!.id} is aborted`);
  });
});
