// Slack that acts, end to end through what `whistle start` builds: the notifier posts the incident
// with its buttons to the Slack stand-in, a person "presses" one there, and the stand-in sends
// Whistle the signed block_actions request exactly as Slack does. A signed press by a mapped user
// approves the waiting plan (which runs) or silences the incident, recorded under the operator's
// name; a forged signature, a replayed (stale) request and an unmapped user change nothing; bad
// payloads get a 4xx naming what is wrong.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { SLACK_ACTIONS } from '../../remediators/notify/channels/slack-blocks.ts';
import { remediationServices } from '../../remediators/services.ts';
import { eventually, OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';
import { capturedLogger, finding, report, tempDir } from '../incidents/helpers.ts';
import { SlackStandin, type SlackMessage } from '../standins/slack.ts';
import type { ProposedPlan } from '../../remediators/policy/approvals.ts';

const TOKEN = 'xoxb-0000-slack-interactivity-token';
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const PUBLIC = 'https://whistle.example.test';

function slackChannel(slack: SlackStandin, users: Record<string, string> = { U0ALICE: 'alice' }) {
  return { type: 'slack', id: 'ops', token: TOKEN, channel: 'C0OPS', slackApiUrl: slack.url, sdkRetries: 0, interactivity: { signingSecret: SECRET, users } };
}

const operators = [
  { name: 'test-operator', token: OPERATOR_TOKEN },
  { name: 'alice', token: 'alice-operator-token-0123456789' },
];

const buttons = (m: SlackMessage): string[] =>
  (m.blocks as { type: string; elements?: { action_id: string }[] }[]).filter((b) => b.type === 'actions').flatMap((b) => (b.elements ?? []).map((e) => e.action_id));

describe('Slack interactivity', () => {
  const slack = new SlackStandin(TOKEN);
  let w: TestWhistle;
  let incidentId: string;
  let plan: ProposedPlan;
  const ran: { plan: string; actor: string }[] = [];

  const messageOf = (id: string) => slack.topLevel().find((m) => (m.metadata?.event_payload as { incident_id?: string } | undefined)?.incident_id === id);
  const audit = async (action: string) =>
    w.whistle.store.query<{ actor: string; subject: string; detail: string }>(`SELECT actor, subject, detail FROM audit_log WHERE action = {action:String} ORDER BY ts`, { action });

  beforeAll(async () => {
    await slack.start();
    w = await startTestWhistle({
      server: { port: 0, publicUrl: PUBLIC, operatorTokens: operators },
      notifications: { groupWaitMs: 0, tickMs: 50, retry: { initialMs: 20, maxMs: 200 }, channels: [slackChannel(slack)], defaultChannels: ['ops'] },
    });
    slack.interactivity = { requestUrl: `${w.url}/v1/slack/interactivity`, signingSecret: SECRET };

    // An incident with a plan awaiting approval, as a remediator leaves it (etcd-member-replace on
    // quorum loss); the plan's executor records who ran it.
    const manager = w.whistle.service(incidentServices.manager);
    const approvals = w.whistle.service(remediationServices.approvals);
    approvals.onApprove('test-restore', async (p, actor) => void ran.push({ plan: p.id, actor }));
    const t = Date.now();
    await manager.report(report(t, [finding({ subject: 'etcd-0', detector: 'test-quorum', cluster: 'c1', severity: 'critical', summary: 'etcd quorum lost' }, t)], 'test-quorum', 'c1'));
    incidentId = manager.current().find((i) => i.subject === 'etcd-0')!.id;
    plan = await approvals.propose({ incidentId, cluster: 'c1', kind: 'test-restore', text: '1. restore the snapshot on etcd-0', params: {}, actor: 'test' });
    await manager.transition(incidentId, 'awaiting_approval', `restore plan ${plan.id} awaits approval`, 'test');
    await eventually(async () => messageOf(incidentId) && buttons(messageOf(incidentId)!).includes(SLACK_ACTIONS.approve), 'the message offers Approve');
  });

  afterAll(async () => {
    await w?.stop();
    await slack.stop();
  });

  it('the message carries Approve, Silence 1 h and Open, which links to the console\'s incident page', () => {
    const msg = messageOf(incidentId)!;
    expect(buttons(msg)).toEqual([SLACK_ACTIONS.approve, SLACK_ACTIONS.silence, SLACK_ACTIONS.open]);
    const open = JSON.stringify(msg.blocks);
    expect(open).toContain(`"url":"${PUBLIC}/console/incidents/${incidentId}"`);
    expect(open).not.toContain('/v1/incidents/');
  });

  it('refuses a forged signature, a stale timestamp and an unmapped user, and nothing changes', async () => {
    const ts = messageOf(incidentId)!.ts;
    const forged = await slack.press({ ts, actionId: SLACK_ACTIONS.approve, user: 'U0ALICE', signingSecret: 'not-the-apps-signing-secret-000' });
    expect(forged.status).toBe(401);
    expect(JSON.parse(forged.body)).toMatchObject({ code: 'WHISTLE_UNAUTHORIZED', error: expect.stringContaining('x-slack-signature: does not match') });

    const stale = await slack.press({ ts, actionId: SLACK_ACTIONS.approve, user: 'U0ALICE', timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(stale.status).toBe(401);
    expect(JSON.parse(stale.body).error).toMatch(/^x-slack-request-timestamp: 30\d s from this server's clock/);

    const unsigned = await fetch(`${w.url}/v1/slack/interactivity`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'payload=%7B%7D' });
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { error: string }).error).toContain('x-slack-request-timestamp: missing');

    const before = slack.ephemerals.length;
    const stranger = await slack.press({ ts, actionId: SLACK_ACTIONS.approve, user: 'U0MALLORY' });
    expect(stranger.status).toBe(403);
    expect(JSON.parse(stranger.body)).toMatchObject({ code: 'WHISTLE_FORBIDDEN', error: expect.stringContaining('payload.user.id: Slack user U0MALLORY is mapped to no operator') });
    // The presser is told why, where only they see it.
    await eventually(async () => slack.ephemerals.length > before, 'the ephemeral refusal');
    expect(slack.ephemerals.at(-1)).toEqual({ user: 'U0MALLORY', text: expect.stringContaining('not mapped to a Whistle operator') });

    const approvals = w.whistle.service(remediationServices.approvals);
    expect(approvals.get(plan.id).state).toBe('awaiting_approval');
    expect(ran).toEqual([]);
    expect(await audit('plan.approve')).toEqual([]);
    expect(w.whistle.service(incidentServices.manager).suppressedBy(incidentId)).toBeNull();
  });

  it('answers bad payloads with a 4xx naming what is wrong', async () => {
    const form = (payload: unknown) => new URLSearchParams({ payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }).toString();
    const good = { type: 'block_actions', user: { id: 'U0ALICE' }, response_url: `${slack.url}x`, actions: [{ action_id: SLACK_ACTIONS.approve, value: incidentId }] };
    const cases: [string, { contentType?: string }, number, RegExp][] = [
      ['token=x&team_id=T0', {}, 400, /^body\.payload: required/],
      [form('{not json'), {}, 400, /^body\.payload: not JSON/],
      [form({ ...good, type: 'view_submission' }), {}, 400, /^payload\.type: "view_submission" is not handled/],
      [form({ ...good, user: undefined }), {}, 400, /^payload\.user: required/],
      [form({ ...good, actions: [] }), {}, 400, /^payload\.actions: required/],
      [form({ ...good, actions: [{ action_id: 'delete_everything', value: incidentId }] }), {}, 400, /^payload\.actions\[0\]\.action_id: "delete_everything" is not one of/],
      [form({ ...good, actions: [{ action_id: SLACK_ACTIONS.approve }] }), {}, 400, /^payload\.actions\[0\]\.value: required/],
      [form({ ...good, response_url: 'not a url' }), {}, 400, /^payload\.response_url: not a URL/],
      [JSON.stringify(good), { contentType: 'application/json' }, 415, /^content-type must be application\/x-www-form-urlencoded/],
    ];
    for (const [body, opts, status, message] of cases) {
      const res = await slack.sendInteraction(body, opts);
      expect({ body: body.slice(0, 60), status: res.status }).toEqual({ body: body.slice(0, 60), status });
      expect(JSON.parse(res.body).error).toMatch(message);
    }
    expect(w.whistle.service(remediationServices.approvals).get(plan.id).state).toBe('awaiting_approval');
  });

  it('a signed press by a mapped user approves the plan, which runs; recorded under the operator\'s name; the message says so', async () => {
    const ts = messageOf(incidentId)!.ts;
    const res = await slack.press({ ts, actionId: SLACK_ACTIONS.approve, user: 'U0ALICE' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, operator: 'alice', text: `approved ${plan.id}` });

    const approvals = w.whistle.service(remediationServices.approvals);
    await eventually(async () => approvals.get(plan.id).state === 'succeeded', 'the approved plan ran');
    expect(ran).toEqual([{ plan: plan.id, actor: 'alice' }]);
    const approved = await audit('plan.approve');
    expect(approved.map((r) => [r.actor, r.subject])).toEqual([['alice', plan.id]]);
    expect(JSON.parse(approved[0]!.detail)).toMatchObject({ incidentId, via: 'slack', slackUser: 'U0ALICE' });
    const history = (await w.whistle.service(incidentServices.manager).show(incidentId)).history;
    expect(history.some((h) => h.actor === 'alice' && h.reason === `plan ${plan.id} (test-restore) approved from Slack`)).toBe(true);

    // The message is rewritten through the response_url: who approved, and no Approve any more.
    await eventually(async () => JSON.stringify(messageOf(incidentId)!.blocks).includes('approved by *alice* from Slack'), 'the message says who approved');
    expect(buttons(messageOf(incidentId)!)).not.toContain(SLACK_ACTIONS.approve);
    expect(slack.responses.filter((r) => r.messageTs === ts && r.body.replace_original === true).map((r) => r.status)).toEqual([200]);
  });

  it('"Silence 1 h" silences the incident\'s fingerprint for an hour as the operator; a press on "Open" changes nothing', async () => {
    const manager = w.whistle.service(incidentServices.manager);
    const ts = messageOf(incidentId)!.ts;
    const before = Date.now();
    const res = await slack.press({ ts, actionId: SLACK_ACTIONS.silence, user: 'U0ALICE' });
    expect(res.status).toBe(200);
    const suppression = manager.suppressedBy(incidentId);
    expect(suppression).toMatchObject({ kind: 'silence' });
    const silence = manager.suppressions.listSilences({ activeOnly: true }).find((s) => s.id === suppression!.id)!;
    expect(silence).toMatchObject({ createdBy: 'alice', matchers: [{ name: 'fingerprint', value: 'test-quorum/c1/etcd-0' }] });
    expect(silence.endsAt - before).toBeGreaterThanOrEqual(3600_000);
    expect(silence.endsAt - Date.now()).toBeLessThanOrEqual(3600_000);
    expect((await audit('silence.create')).map((r) => [r.actor, r.subject])).toEqual([['alice', silence.id]]);
    await eventually(async () => JSON.stringify(messageOf(incidentId)!.blocks).includes('Silenced for 1 h by *alice*'), 'the message says who silenced');
    expect(buttons(messageOf(incidentId)!)).not.toContain(SLACK_ACTIONS.silence);

    const audits = (await audit('silence.create')).length + (await audit('plan.approve')).length;
    const open = await slack.press({ ts, actionId: SLACK_ACTIONS.open, user: 'U0ALICE' });
    expect(open.status).toBe(200);
    expect((await audit('silence.create')).length + (await audit('plan.approve')).length).toBe(audits);
  });
});

describe('Slack interactivity settings', () => {
  // One data directory for both: chDB binds one per process, and a start refused half-way may
  // still be releasing its session when the next opens (the same path may be reopened).
  const tmp = tempDir('slack-settings');
  afterAll(() => tmp.cleanup());

  it('refuses at start a Slack user mapped to a name that is no operator, naming the setting', async () => {
    const slack = new SlackStandin(TOKEN);
    await slack.start();
    try {
      const err = await startTestWhistle({
        server: { port: 0, publicUrl: PUBLIC, operatorTokens: operators },
        notifications: { channels: [slackChannel(slack, { U0BOB: 'bob' })], defaultChannels: ['ops'] },
      }, { dir: tmp.dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems).toEqual(['notifications.channels[0].interactivity.users.U0BOB: "bob" is not an operator (server.operatorTokens names: test-operator, alice; console operators: whistle operators)']);
    } finally {
      await slack.stop();
    }
  });

  it('without server.publicUrl: a warning at start, and messages without a link rather than a wrong one', async () => {
    const slack = new SlackStandin(TOKEN);
    await slack.start();
    const { log, lines } = capturedLogger();
    const w = await startTestWhistle(
      { notifications: { groupWaitMs: 0, tickMs: 50, channels: [slackChannel(slack, { U0ALICE: 'test-operator' })], defaultChannels: ['ops'] } },
      { logger: log, dir: tmp.dir },
    );
    try {
      expect(lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40 && l.msg.startsWith('server.publicUrl is not set'))).toHaveLength(1);
      const manager = w.whistle.service(incidentServices.manager);
      const t = Date.now();
      await manager.report(report(t, [finding({ subject: 'node-x', detector: 'test-disk', cluster: 'c1' }, t)], 'test-disk', 'c1'));
      await eventually(async () => slack.topLevel().length === 1, 'the message');
      const blocks = JSON.stringify(slack.topLevel()[0]!.blocks);
      expect(blocks).not.toContain('"url"');
      expect(blocks).not.toContain(SLACK_ACTIONS.open);
      expect(blocks).toContain(SLACK_ACTIONS.silence);
    } finally {
      await w.stop();
      await slack.stop();
    }
  });
});

describe('Slack users mapped to console operators', () => {
  const slack = new SlackStandin(TOKEN);
  const tmp = tempDir('slack-console-operators');
  let w: TestWhistle | undefined;

  afterAll(async () => {
    await w?.stop({ keepDir: true });
    await slack.stop();
    tmp.cleanup();
  });

  it('a Slack user may map to an operator who signs in to the console; once removed there, the mapping acts as nobody', async () => {
    await slack.start();
    // carol is made through the API (as `whistle operators add` does) before the mapping names her:
    // a mapping to nobody is refused at start.
    const first = await startTestWhistle({ server: { port: 0, operatorTokens: operators } }, { dir: tmp.dir });
    expect((await first.operator('POST', '/v1/operators', { name: 'carol', password: 'a long password for carol' })).status).toBe(201);
    await first.stop({ keepDir: true });

    w = await startTestWhistle(
      {
        server: { port: 0, publicUrl: PUBLIC, operatorTokens: operators },
        notifications: { groupWaitMs: 0, tickMs: 50, retry: { initialMs: 20, maxMs: 200 }, channels: [slackChannel(slack, { U0CAROL: 'carol' })], defaultChannels: ['ops'] },
      },
      { dir: tmp.dir },
    );
    slack.interactivity = { requestUrl: `${w.url}/v1/slack/interactivity`, signingSecret: SECRET };
    const manager = w.whistle.service(incidentServices.manager);
    const approvals = w.whistle.service(remediationServices.approvals);
    const ran: string[] = [];
    approvals.onApprove('test-restore', async (_p, actor) => void ran.push(actor));
    const t = Date.now();
    await manager.report(report(t, [finding({ subject: 'etcd-1', detector: 'test-quorum', cluster: 'c1', severity: 'critical', summary: 'etcd quorum lost' }, t)], 'test-quorum', 'c1'));
    const incidentId = manager.current().find((i) => i.subject === 'etcd-1')!.id;
    const plan = await approvals.propose({ incidentId, cluster: 'c1', kind: 'test-restore', text: '1. restore the snapshot on etcd-1', params: {}, actor: 'test' });
    await manager.transition(incidentId, 'awaiting_approval', `restore plan ${plan.id} awaits approval`, 'test');
    const message = await eventually(async () => slack.topLevel().find((m) => (m.metadata?.event_payload as { incident_id?: string } | undefined)?.incident_id === incidentId), 'the message');

    const pressed = await slack.press({ ts: message.ts, actionId: SLACK_ACTIONS.approve, user: 'U0CAROL' });
    expect(pressed.status).toBe(200);
    expect(JSON.parse(pressed.body)).toMatchObject({ ok: true, operator: 'carol' });
    await eventually(async () => approvals.get(plan.id).state === 'succeeded', 'the approved plan ran');
    expect(ran).toEqual(['carol']);

    expect((await w.operator('DELETE', '/v1/operators/carol')).status).toBe(200);
    const after = await slack.press({ ts: message.ts, actionId: SLACK_ACTIONS.silence, user: 'U0CAROL' });
    expect(after.status).toBe(403);
    expect(JSON.parse(after.body).error).toBe('payload.user.id: Slack user U0CAROL is mapped to "carol", who is no longer an operator (removed from the console or server.operatorTokens)');
    expect(manager.suppressedBy(incidentId)).toBeNull();
  });
});
