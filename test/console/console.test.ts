// The support console in a real browser (headless Chromium) against a Whistle built from config,
// with a real fault posted through the ingest API: a node's disk fills up, low-disk opens an
// incident, and the operator follows it on the console, live, and acts on it.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOIN_TOKEN, OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
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
  t = await startTestWhistle(
    {
      server: { port: 0, operatorTokens: [{ name: 'test-operator', token: OPERATOR_TOKEN }, { name: HTML_NAME, token: HTML_TOKEN }] },
      detectors: {
        tickMs: 200,
        agentSilent: { enabled: false },
        kubeletDown: { enabled: false },
        nodeNotReady: { enabled: false },
        podRestartStorm: { enabled: false },
        dnsAddonFailure: { enabled: false },
        etcdQuorum: { enabled: false },
        certExpiry: { enabled: false },
      },
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

  it('the actions page shows every operator action under the operator name, filterable', async () => {
    await page.goto(`${t.url}/console/actions?actor=alice`);
    const trail = await page.locator('.trail').textContent();
    for (const a of ['node.authorize', 'silence.create', 'incident.note', 'console.signin']) expect(trail).toContain(a);
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
