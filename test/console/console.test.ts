// The support console in a real browser (headless Chromium) against a Whistle built from config,
// with a real fault posted through the ingest API: a node's disk fills up, low-disk opens an
// incident, and the operator follows it on the console, live, and acts on it.
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeAgent, type NodeAgent } from '../../agent/node-agent.ts';
import { parseConfig } from '../../app/config.ts';
import { coreServices } from '../../core/services.ts';
import { freePort } from '../harness/ports.ts';
import { onlyDetectors } from '../helpers/detectors.ts';
import { eventually, JOIN_TOKEN, OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
import { launchChromium, markPage, screenshot, signIn, stillSamePage } from './browser.ts';

const GiB = 1024 ** 3;
const HTML_NAME = '<img src=x onerror="window.__pwned=1">';
const HTML_TOKEN = 'html-named-operator-token-0123456789';
const PASSWORD = 'a long console password';

let t: TestWhistle;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let nodeToken: string;
let clockOffset = 0;
let poolAgent: NodeAgent | undefined;
let workerPort = 0;

/** The audit log's rows of one action, detail parsed: what the console recorded, under whose name. */
async function audited(action: string) {
  const rows = await t.whistle.store.query<{ actor: string; cluster: string; subject: string; detail: string }>('SELECT actor, cluster, subject, detail FROM audit_log WHERE action = {action:String} ORDER BY ts', { action });
  return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> }));
}

function samplesAt(ts: number, usedPercent: number) {
  const labels = { mount: '/', fstype: 'ext4', device: '/dev/sda1', readonly: 'false' };
  return [
    { name: 'node_filesystem_size_bytes', value: 100 * GiB, ts, labels },
    { name: 'node_filesystem_used_bytes', value: usedPercent * GiB, ts, labels },
    { name: 'node_memory_used_ratio', value: 0.4 + 0.1 * Math.sin(ts / 600_000), ts, labels: {} },
    { name: 'node_load1', value: 1 + Math.abs(Math.sin(ts / 900_000)), ts, labels: {} },
  ];
}

async function postSamples(samples: ReturnType<typeof samplesAt>): Promise<void> {
  const res = await t.post('/v1/telemetry', { cluster: 'c1', node: 'n1', samples }, nodeToken);
  expect(res.status).toBe(202);
}

async function openIncident() {
  const res = await t.operator('GET', '/v1/incidents?active=true');
  const { incidents } = (await res.json()) as { incidents: { id: string; state: string; severity: string; detector: string; suppressedBy: unknown }[] };
  return incidents.find((i) => i.detector === 'low-disk');
}

beforeAll(async () => {
  workerPort = await freePort();
  t = await startTestWhistle(
    {
      // Small limits, so the throttling test reaches them in a few attempts.
      console: { signInThrottle: { maxFailuresPerName: 3, maxFailuresPerAddress: 6, windowMs: 10 * 60_000 } },
      fleet: { workerPorts: [workerPort] },
      server: { port: 0, operatorTokens: [{ name: 'test-operator', token: OPERATOR_TOKEN }, { name: HTML_NAME, token: HTML_TOKEN }] },
      detectors: onlyDetectors({ lowDisk: {} }, { tickMs: 200 }),
      // This test follows the incident itself; disk cleanup would need an agent carrying out tasks.
      remediation: { diskCleanup: { enabled: false } },
    },
    { clock: () => Date.now() + clockOffset },
  );
  nodeToken = await t.addNode('n1');
  // A second agent registers and waits for an operator.
  const reg = await t.post('/v1/register', { cluster: 'c1', node: 'n2-pending', joinToken: JOIN_TOKEN });
  expect(reg.status).toBe(202);
  const add = await t.operator('POST', '/v1/operators', { name: 'alice', password: PASSWORD });
  expect(add.status).toBe(201);
  // Two hours of history for the charts, the disk at a steady 60 %.
  const now = Date.now();
  const history = [];
  for (let m = 120; m >= 1; m -= 5) history.push(...samplesAt(now - m * 60_000, 60));
  await postSamples(history);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await poolAgent?.stop();
  await browser?.close();
  await t?.stop();
});

describe('the console in a browser', () => {
  it('signs in with a name and password; the session cookie is HttpOnly, SameSite=Strict, with an expiry', async () => {
    await signIn(page, t.url, { name: 'alice', password: PASSWORD });
    const cookie = (await context.cookies()).find((c) => c.name === 'whistle_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    expect(cookie.expires).toBeGreaterThan(Date.now() / 1000 + 3600);
    await expect(page.locator('[data-testid="operator"]').textContent()).resolves.toBe('alice');
    // Nothing wrong yet.
    expect(await page.locator('#fleet tbody').textContent()).toContain('none');
  });

  it('the fleet page shows the incident the moment it opens, without a reload', async () => {
    await page.waitForSelector('body[data-live-connected="1"]');
    await markPage(page);
    await postSamples(samplesAt(Date.now(), 97));
    await page.waitForFunction(() => document.querySelector('#fleet tbody')?.textContent?.includes('1 critical'), undefined, { timeout: 30_000 });
    expect(await stillSamePage(page)).toBe(true);
    const row = page.locator('#fleet tbody tr', { hasText: 'c1' });
    expect(await row.textContent()).toContain('1 / 1'); // n1 reporting (n2 is pending, not counted)
    expect(await row.textContent()).toContain('+1 pending');
    await screenshot(page, 'fleet');
  });

  it('filters and searches the fleet', async () => {
    await page.goto(`${t.url}/console/?show=paused`);
    expect(await page.locator('#fleet tbody').textContent()).toContain('No cluster matches');
    await page.goto(`${t.url}/console/?q=c1&show=critical`);
    expect(await page.locator('#fleet tbody tr', { hasText: 'c1' }).count()).toBe(1);
    await page.fill('input[name="q"]', 'no-such-cluster');
    await page.waitForFunction(() => [...document.querySelectorAll('#fleet tbody tr')].every((r) => (r as HTMLElement).hidden));
  });

  it('the cluster page lists nodes, the open incident, and draws the node charts', async () => {
    await page.goto(`${t.url}/console/clusters/c1`);
    const nodes = await page.locator('#nodes').textContent();
    expect(nodes).toContain('n1');
    expect(nodes).toContain('97 %');
    expect(nodes).toContain('n2-pending');
    expect(await page.locator('.incidents').textContent()).toContain('critical');
    await page.waitForSelector('.charts[data-drawn="1"]');
    expect(await page.locator('.charts canvas').count()).toBe(3);
    await screenshot(page, 'cluster');
  });

  it('the incident page shows the timeline; a note appears in it under the operator name', async () => {
    const incident = (await openIncident())!;
    await page.goto(`${t.url}/console/incidents/${incident.id}`);
    expect(await page.locator('#timeline').textContent()).toContain('opened');
    expect(await page.locator('[data-testid="state"]').textContent()).toContain('open');
    await page.fill('textarea[name="note"]', 'looking at it: /var/log is the culprit');
    await Promise.all([page.waitForURL(`${t.url}/console/incidents/${incident.id}`), page.click('[data-testid="add-note"]')]);
    const note = page.locator('#timeline li.t-note');
    expect(await note.textContent()).toContain('looking at it: /var/log is the culprit');
    expect(await note.locator('.actor').textContent()).toBe('alice');
    await screenshot(page, 'incident');
  });

  it('silences the incident for an hour with a comment, and shows it silenced', async () => {
    const incident = (await openIncident())!;
    await page.goto(`${t.url}/console/incidents/${incident.id}`);
    await page.selectOption('select[name="duration"]', '3600000');
    await page.fill('input[name="comment"]', 'disk being resized');
    await Promise.all([page.waitForURL(`${t.url}/console/incidents/${incident.id}`), page.click('[data-testid="silence"]')]);
    expect(await page.locator('[data-testid="silenced"]').textContent()).toContain('disk being resized');
    expect((await openIncident())!.suppressedBy).toMatchObject({ kind: 'silence' });
    await screenshot(page, 'incident-silenced');
    await page.goto(`${t.url}/console/silences`);
    expect(await page.locator('#silences').textContent()).toContain('disk being resized');
    expect(await page.locator('#silences').textContent()).toContain('alice');
    await screenshot(page, 'silences');
    await page.goto(`${t.url}/console/`);
    expect(await page.locator('#fleet tbody tr', { hasText: 'c1' }).textContent()).toContain('1 silenced');
  });

  it('authorizes the pending node', async () => {
    await page.goto(`${t.url}/console/nodes`);
    await screenshot(page, 'nodes');
    await Promise.all([page.waitForURL(/\/console\/nodes\?done=/), page.click('[data-testid="authorize-c1-n2-pending"]')]);
    expect(await page.locator('.flash').textContent()).toContain('c1/n2-pending: authorized');
    const res = await t.operator('GET', '/v1/nodes?cluster=c1');
    const { nodes } = (await res.json()) as { nodes: { node: string; status: string; updatedBy: string }[] };
    expect(nodes.find((n) => n.node === 'n2-pending')).toMatchObject({ status: 'authorized', updatedBy: 'alice' });
  });

  it('pauses remediation of a cluster with a reason, and resumes it', async () => {
    await page.goto(`${t.url}/console/clusters/c1`);
    await page.fill('#remediation input[name="reason"]', 'vendor maintenance on the storage array');
    await Promise.all([page.waitForURL(/\/console\/clusters\/c1\?done=/), page.click('[data-testid="remediation-pause"]')]);
    expect(await page.locator('.flash').textContent()).toContain('remediation paused');
    expect(await page.locator('[data-testid="paused-by"]').textContent()).toBe('Paused by alice: vendor maintenance on the storage array');
    await screenshot(page, 'cluster-paused');
    const api = (await (await t.operator('GET', '/v1/remediation')).json()) as { clusters: { cluster: string; paused: boolean; actor: string }[] };
    expect(api.clusters.find((c) => c.cluster === 'c1')).toMatchObject({ paused: true, actor: 'alice' });
    await page.goto(`${t.url}/console/?show=paused`);
    expect(await page.locator('#fleet tbody tr', { hasText: 'c1' }).textContent()).toContain('by alice');
    await page.goto(`${t.url}/console/clusters/c1`);
    await Promise.all([page.waitForURL(/\/console\/clusters\/c1\?done=/), page.click('[data-testid="remediation-resume"]')]);
    expect(await page.locator('.flash').textContent()).toContain('remediation resumed');
    expect(await page.locator('[data-testid="paused-by"]').count()).toBe(0);
    // c1 comes from the config file: the page says where it is deleted instead of offering it.
    expect(await page.locator('[data-testid="declared"]').textContent()).toContain('c1 is declared in clusters[] of the config file');
    expect(await page.locator('[data-testid="delete-cluster"]').count()).toBe(0);
    expect(await audited('remediation.pause')).toEqual([expect.objectContaining({ actor: 'alice', cluster: 'c1', detail: { reason: 'vendor maintenance on the storage array', via: 'console' } })]);
    expect(await audited('remediation.resume')).toEqual([expect.objectContaining({ actor: 'alice', cluster: 'c1', detail: expect.objectContaining({ via: 'console' }) })]);
  });

  it('creates a cluster (dry run first), shows its join token once, attaches a pool worker and detaches it, then deletes the cluster', async () => {
    await page.goto(`${t.url}/console/`);
    await page.click('[data-testid="new-cluster"]');
    // Asking for a control plane the pool cannot give is refused, naming the field, on the page.
    await page.fill('[data-testid="cluster-name"]', 'edge-7');
    await page.fill('[data-testid="cluster-cp"]', '1');
    const refused = await Promise.all([page.waitForResponse((r) => r.url().includes('/console/new-cluster?')), page.click('[data-testid="cluster-dry-run"]')]);
    expect(refused[0].status()).toBe(409);
    expect(await page.locator('.error').textContent()).toContain('controlPlane: the pool has 0 authorized node(s) in no cluster, 1 wanted');
    await page.goto(`${t.url}/console/new-cluster`);
    await page.fill('[data-testid="cluster-name"]', 'edge-7');
    await page.click('[data-testid="cluster-dry-run"]');
    expect(await page.locator('.plan').textContent()).toContain('A cluster edge-7 would be created with no node yet');
    expect((await t.operator('GET', '/v1/clusters/edge-7')).status).toBe(404);
    const created = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/console/new-cluster') && r.request().method() === 'POST'), page.click('[data-testid="create-cluster"]')]);
    expect(created[0].status()).toBe(201);
    const joinToken = (await page.locator('[data-testid="join-token"]').textContent())!.trim();
    expect(t.whistle.service(coreServices.clusters).checkJoinToken('edge-7', joinToken)).toBe(true);
    await screenshot(page, 'cluster-created');
    // Shown once: the cluster's page and the API never show it again.
    await page.goto(`${t.url}/console/clusters/edge-7`);
    expect(await page.content()).not.toContain(joinToken);
    expect(await (await t.operator('GET', '/v1/clusters/edge-7')).text()).not.toContain(joinToken);

    // A real agent joins the node pool with the fleet token; the operator authorizes it on the Nodes page.
    const fleetToken = ((await (await t.operator('POST', '/v1/pool/join-token')).json()) as { joinToken: string }).joinToken;
    const cfg = parseConfig({
      agent: { server: t.url, cluster: 'pool', node: 'spare-1', joinToken: fleetToken, zone: 'zone-b', intervalMs: 1_000, stateDir: join(t.dir, 'agent-spare-1'), tasks: { enabled: true, address: '127.0.72.1', etcdMember: false } },
    }).agent;
    poolAgent = createNodeAgent(cfg, { logger: pino({ level: 'silent' }), selfMetrics: false });
    await poolAgent.start();
    await eventually(async () => (await (await t.operator('GET', '/v1/pool')).text()).includes('spare-1'), 'the agent in the pool');
    await page.goto(`${t.url}/console/nodes`);
    await Promise.all([page.waitForURL(/\/console\/nodes\?done=/), page.click('[data-testid="authorize-pool-spare-1"]')]);

    await page.goto(`${t.url}/console/clusters/edge-7`);
    await page.selectOption('[data-testid="attach-nodes"]', ['spare-1']);
    await page.selectOption('[data-testid="attach-role"]', 'worker');
    await page.click('[data-testid="attach-plan"]');
    const plan = await page.locator('[data-testid="fleet-plan"]').textContent();
    expect(plan).toContain('attach spare-1 (zone-b) as worker node(s) of edge-7');
    expect(plan).toContain(`preflight: spare-1 binds ${workerPort}`);
    await screenshot(page, 'attach-plan');
    // Only a dry run so far: the node is still in the pool.
    expect(t.whistle.service(coreServices.clusters).has('edge-7')).toBe(true);
    expect(((await (await t.operator('GET', '/v1/pool')).json()) as { nodes: { node: string; cluster: string }[] }).nodes.find((n) => n.node === 'spare-1')).toMatchObject({ cluster: 'pool' });
    await page.click('[data-testid="fleet-confirm"]');
    expect(await page.locator('[data-testid="fleet-done"]').textContent()).toBe('Done.');
    const preflight = await page.locator('[data-testid="preflight"]').textContent();
    expect(preflight).toContain(`127.0.72.1:${workerPort}`);
    await screenshot(page, 'attach-done');
    const detail = (await (await t.operator('GET', '/v1/clusters/edge-7')).json()) as { workers: string[] };
    expect(detail.workers).toEqual(['spare-1']);

    await page.goto(`${t.url}/console/clusters/edge-7`);
    expect(await page.locator('#nodes').textContent()).toContain('spare-1');
    expect(await page.locator('[data-testid="delete-cluster"]').count()).toBe(0);
    await page.click('[data-testid="detach-spare-1"]');
    expect(await page.locator('[data-testid="fleet-plan"]').textContent()).toContain('detach spare-1 (worker) from edge-7');
    await page.click('[data-testid="fleet-confirm"]');
    expect(await page.locator('[data-testid="fleet-done"]').textContent()).toBe('Done.');
    expect(((await (await t.operator('GET', '/v1/clusters/edge-7')).json()) as { nodes: unknown[] }).nodes).toEqual([]);

    await page.goto(`${t.url}/console/clusters/edge-7`);
    await page.fill('#membership input[name="confirm"]', 'edge-7');
    await Promise.all([page.waitForURL(/\/console\/\?done=/), page.click('[data-testid="delete-cluster"]')]);
    expect(await page.locator('.flash').textContent()).toContain('cluster edge-7 deleted');
    expect((await t.operator('GET', '/v1/clusters/edge-7')).status).toBe(404);
    for (const action of ['cluster.create', 'cluster.attach', 'cluster.detach', 'cluster.delete']) {
      expect(await audited(action), action).toEqual([expect.objectContaining({ actor: 'alice', cluster: 'edge-7', detail: expect.objectContaining({ via: 'console' }) })]);
    }
  }, 120_000);

  it('the actions page shows every operator action under the operator name, filterable', async () => {
    await page.goto(`${t.url}/console/actions?actor=alice`);
    const trail = await page.locator('.trail').textContent();
    for (const a of ['node.authorize', 'silence.create', 'incident.note', 'console.signin', 'remediation.pause', 'remediation.resume', 'cluster.create', 'cluster.delete']) expect(trail).toContain(a);
    await page.goto(`${t.url}/console/actions?kind=node.`);
    expect(await page.locator('.trail').textContent()).not.toContain('silence.create');
    await screenshot(page, 'actions');
  });

  it('shows an operator name with HTML in it as text', async () => {
    const other = await context.browser()!.newContext();
    const p = await other.newPage();
    await signIn(p, t.url, { token: HTML_TOKEN });
    expect(await p.locator('[data-testid="operator"]').textContent()).toBe(HTML_NAME);
    expect(await p.locator('[data-testid="operator"] img').count()).toBe(0);
    expect(await p.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await screenshot(p, 'html-operator');
    await other.close();
  });

  it('signing out ends the session: every page sends to sign-in and every form is refused', async () => {
    const incident = (await openIncident())!;
    await page.goto(`${t.url}/console/incidents/${incident.id}`);
    const csrf = await page.locator('input[name="_csrf"]').first().inputValue();
    const cookies = await context.cookies();
    await Promise.all([page.waitForURL(`${t.url}/console/login`), page.click('button:has-text("Sign out")')]);
    await screenshot(page, 'login');
    for (const path of ['/console/', '/console/clusters/c1', `/console/incidents/${incident.id}`, '/console/nodes', '/console/silences', '/console/actions']) {
      await page.goto(`${t.url}${path}`);
      expect(new URL(page.url()).pathname, path).toBe('/console/login');
    }
    // The old cookie, replayed with a token that was valid for it: the session is gone server-side.
    const cookie = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const forms: [string, Record<string, string>][] = [
      [`/console/incidents/${incident.id}/notes`, { note: 'x' }],
      [`/console/incidents/${incident.id}/silence`, { duration: '3600000', comment: 'x' }],
      ['/console/nodes/c1/n1/revoke', {}],
      ['/console/silences', { name: 'cluster', value: 'c1', duration: '3600000', comment: 'x' }],
      ['/console/maintenance', { cluster: 'c1', end: '2299-01-01T00:00', comment: 'x' }],
      ['/console/clusters/c1/remediation/pause', { reason: 'x' }],
      ['/console/new-cluster', { name: 'x1' }],
      ['/console/clusters/c1/attach', { step: 'plan', nodes: 'n1', role: 'worker' }],
      ['/console/logout', {}],
    ];
    for (const [path, fields] of forms) {
      const res = await fetch(`${t.url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ _csrf: csrf, ...fields }).toString() });
      expect(res.status, path).toBe(401);
    }
    const events = await fetch(`${t.url}/console/events`, { headers: { cookie } });
    expect(events.status).toBe(401);
    const res = await t.operator('GET', '/v1/nodes?cluster=c1');
    expect(((await res.json()) as { nodes: { node: string; status: string }[] }).nodes.find((n) => n.node === 'n1')?.status).toBe('authorized');
  });
});

describe('whistle operators (the CLI)', () => {
  const cli = (args: string[], stdin = '') =>
    new Promise<{ code: number; out: string; err: string }>((done) => {
      const child = execFile(process.execPath, [resolve('bin/whistle.js'), 'operators', ...args, '--server', t.url, '--token', OPERATOR_TOKEN], (err, out, errOut) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: errOut }),
      );
      child.stdin!.end(stdin);
    });

  it('adds an operator with a password read from stdin, changes it, lists and removes them', async () => {
    expect(await cli(['add', 'dave'], 'dave the night shift\n')).toMatchObject({ code: 0, out: 'added dave\n' });
    const short = await cli(['add', 'erin'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.err).toContain('password: at least 12 characters');
    expect(await cli(['passwd', 'dave'], 'dave the day shift now\n')).toMatchObject({ code: 0 });
    expect((await cli([])).out).toMatch(/dave\s+\S.*test-operator/);
    expect(await cli(['remove', 'dave'])).toMatchObject({ code: 0, out: 'removed dave\n' });
    expect((await cli(['remove', 'dave'])).err).toContain('no operator "dave"');
    // Each run loads the CLI from source (a test tree's bundle is older than its sources): seconds
    // each on a busy machine.
  }, 300_000);
});

describe('console security without a browser', () => {
  async function login(): Promise<{ cookie: string; csrf: string }> {
    const page = await fetch(`${t.url}/console/login`);
    const csrfCookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const loginCsrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const res = await fetch(`${t.url}/console/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: loginCsrf, name: 'alice', password: PASSWORD }).toString(),
    });
    expect(res.status).toBe(303);
    const cookie = `${csrfCookie}; ${res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')}`;
    const nodes = await fetch(`${t.url}/console/nodes`, { headers: { cookie } });
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await nodes.text())![1]!;
    return { cookie, csrf };
  }

  const post = (path: string, cookie: string, fields: Record<string, string>) =>
    fetch(`${t.url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString() });

  it('sets the security headers: a strict CSP without inline script, no framing, no sniffing', async () => {
    const res = await fetch(`${t.url}/console/login`);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    // The JSON API beside it is untouched by the console's plugins.
    const api = await t.operator('GET', '/v1/nodes');
    expect(api.headers.get('content-security-policy')).toBeNull();
  });

  it('refuses a request without a session, and with a forged session cookie', async () => {
    const none = await fetch(`${t.url}/console/nodes`, { redirect: 'manual' });
    expect(none.status).toBe(303);
    expect(none.headers.get('location')).toBe('/console/login?next=%2Fconsole%2Fnodes');
    const { cookie, csrf } = await login();
    const forged = cookie.replace(/whistle_session=[^;]+/, 'whistle_session=forged-0123456789abcdefghijklmnopqrstuvwxyz');
    expect((await fetch(`${t.url}/console/nodes`, { redirect: 'manual', headers: { cookie: forged } })).status).toBe(303);
    expect((await post('/console/nodes/c1/n1/revoke', forged, { _csrf: csrf })).status).toBe(401);
    expect((await post('/console/nodes/c1/n1/revoke', '', { _csrf: csrf })).status).toBe(401);
  });

  it('refuses a form without its CSRF token, or with one from another session', async () => {
    const a = await login();
    const b = await login();
    const missing = await post('/console/silences', a.cookie, { name: 'cluster', value: 'c1', duration: '3600000', comment: 'x' });
    expect(missing.status).toBe(403);
    expect(await missing.text()).toContain('CSRF');
    const crossed = await post('/console/silences', a.cookie, { _csrf: b.csrf, name: 'cluster', value: 'c1', duration: '3600000', comment: 'x' });
    expect(crossed.status).toBe(403);
    const ok = await post('/console/silences', a.cookie, { _csrf: a.csrf, name: 'cluster', value: 'c1', duration: '3600000', comment: 'csrf ok' });
    expect(ok.status).toBe(303);
    const bad = await post('/console/silences', a.cookie, { _csrf: a.csrf, name: 'cluster', value: 'c1', duration: 'soon', comment: 'x' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('duration: not a whole number');
  });

  it('answers bad input to the cluster forms with a 400 naming the field', async () => {
    const { cookie, csrf } = await login();
    const cases: [string, Record<string, string>, number, string][] = [
      ['/console/clusters/c1/remediation/pause', { reason: '' }, 400, 'reason: required'],
      ['/console/clusters/c1/remediation/pause', { reason: 'x'.repeat(1001) }, 400, 'reason: at most 1000 characters'],
      ['/console/clusters/nope/remediation/pause', { reason: 'x' }, 404, 'no cluster &quot;nope&quot;'],
      ['/console/new-cluster', { name: 'bad name!' }, 400, 'name:'],
      ['/console/new-cluster', { name: 'x2', controlPlane: '9' }, 400, 'controlPlane: must be between 1 and 7'],
      ['/console/clusters/c1/attach', { step: 'plan', nodes: 'n1', role: 'boss' }, 400, 'role: control-plane or worker'],
      ['/console/clusters/c1/attach', { step: 'plan', role: 'worker' }, 400, 'nodes: pick at least one'],
      ['/console/clusters/c1/attach', { step: 'maybe', nodes: 'n1', role: 'worker' }, 400, 'step: plan or do'],
      ['/console/clusters/c1/delete', { confirm: 'c2' }, 400, 'confirm: type the cluster'],
      ['/console/rollouts/upg-none/pause', {}, 404, 'id: no rollout'],
      ['/console/clusters/c1/upgrade', { release: '2026.12' }, 400, 'cluster: &quot;c1&quot; has no kubeconfig'],
    ];
    for (const [path, fields, status, message] of cases) {
      const res = await post(path, cookie, { _csrf: csrf, ...fields });
      expect(res.status, `${path} ${JSON.stringify(fields)}`).toBe(status);
      expect(await res.text(), path).toContain(message);
    }
    expect(t.whistle.service(coreServices.clusters).has('x2')).toBe(false);
  });

  it('refuses a wrong password and a removed operator', async () => {
    const page = await fetch(`${t.url}/console/login`);
    const csrfCookie = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;
    const wrong = await post('/console/login', csrfCookie, { _csrf: csrf, name: 'alice', password: 'not the password at all' });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Wrong name or password');
    const add = await t.operator('POST', '/v1/operators', { name: 'bob', password: 'bob has a long one' });
    expect(add.status).toBe(201);
    expect((await t.operator('POST', '/v1/operators', { name: 'b<b>', password: 'bob has a long one' })).status).toBe(400);
    expect((await t.operator('POST', '/v1/operators', { name: 'carol', password: 'short' })).status).toBe(400);
    const bob = await post('/console/login', csrfCookie, { _csrf: csrf, name: 'bob', password: 'bob has a long one' });
    const bobCookie = `${csrfCookie}; ${bob.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')}`;
    expect((await fetch(`${t.url}/console/`, { headers: { cookie: bobCookie } })).status).toBe(200);
    expect((await t.operator('DELETE', '/v1/operators/bob')).status).toBe(200);
    expect((await fetch(`${t.url}/console/`, { redirect: 'manual', headers: { cookie: bobCookie } })).status).toBe(303);
  });

  it('refuses an expired session', async () => {
    const { cookie } = await login();
    expect((await fetch(`${t.url}/console/`, { headers: { cookie } })).status).toBe(200);
    clockOffset = t.config.console.sessionTtlMs + 1000;
    expect((await fetch(`${t.url}/console/`, { redirect: 'manual', headers: { cookie } })).status).toBe(303);
  });
});

describe('sign-in throttling', () => {
  async function attempt(p: Page, name: string, password: string): Promise<number> {
    await p.goto(`${t.url}/console/login`);
    await p.fill('input[name="name"]', name);
    await p.fill('input[name="password"]', password);
    const [res] = await Promise.all([p.waitForResponse((r) => r.url().endsWith('/console/login') && r.request().method() === 'POST'), p.click('[data-testid="sign-in"]')]);
    return res.status();
  }

  it('refuses a name after 3 failed sign-ins, then an address after 6, with 429 and a message; both end with the window', async () => {
    // Past the earlier tests' failures (their window is over) and sessions.
    clockOffset += 11 * 60_000;
    expect((await t.operator('POST', '/v1/operators', { name: 'zoe', password: 'zoe keeps a long password' })).status).toBe(201);
    const other = await browser.newContext();
    const p = await other.newPage();
    for (let i = 0; i < 3; i++) expect(await attempt(p, 'zoe', `wrong guess number ${i}`)).toBe(401);
    // The right password now is refused too, without being checked.
    expect(await attempt(p, 'zoe', 'zoe keeps a long password')).toBe(429);
    expect(await p.locator('.error').textContent()).toMatch(/^Too many failed sign-ins for this name: try again in 10 minutes\.$/);
    await screenshot(p, 'login-throttled');
    // Other names from the same address still get in, until the address has 6 failures.
    for (let i = 0; i < 3; i++) expect(await attempt(p, `sprayed-${i}`, 'some guessed password')).toBe(401);
    expect(await attempt(p, 'alice', PASSWORD)).toBe(429);
    expect(await p.locator('.error').textContent()).toContain('Too many failed sign-ins from this address');
    const refused = await audited('console.signin_refused');
    expect(refused.filter((r) => r.detail.throttledNow).map((r) => r.actor)).toEqual(['zoe', 'sprayed-2']);
    clockOffset += 10 * 60_000 + 1000;
    await signIn(p, t.url, { name: 'zoe', password: 'zoe keeps a long password' });
    expect(await p.locator('[data-testid="operator"]').textContent()).toBe('zoe');
    await other.close();
  });
});
