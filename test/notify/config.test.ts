// The notifications and incidents config sections: defaults, strictness (a typo is an error naming
// the key), and cross-checks (routes name existing channels) reported all at once.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config.ts';

describe('notifications config', () => {
  it('has defaults for everything', () => {
    const cfg = parseConfig({});
    expect(cfg.notifications).toMatchObject({ groupWaitMs: 30_000, repeatIntervalMs: 4 * 3600_000, sendResolved: true, channels: [], routes: [] });
    expect(cfg.incidents).toMatchObject({ resolveWindowMs: 300_000, reopenWindowMs: 1_800_000 });
  });

  it('fills channel defaults', () => {
    const cfg = parseConfig({
      notifications: {
        channels: [
          { type: 'slack', id: 'ops', token: 'xoxb-1', channel: 'C0OPS1' },
          { type: 'jira', id: 'tickets', url: 'https://example.atlassian.net', email: 'a@b.c', apiToken: 't', project: 'OPS' },
        ],
        routes: [{ match: { severity: ['critical'] }, channels: ['ops', 'tickets'] }],
      },
    });
    expect(cfg.notifications.channels[0]).toMatchObject({ slackApiUrl: 'https://slack.com/api/', sdkRetries: 3 });
    expect(cfg.notifications.channels[1]).toMatchObject({ flavor: 'cloud', issueType: 'Task', resolveTransition: 'Done', searchLagMs: 30_000 });
  });

  it('email: submission on 587 with STARTTLS required, system CAs unless caFile', () => {
    const cfg = parseConfig({ notifications: { channels: [{ type: 'email', id: 'mail', host: 'smtp.example.com', from: 'a@b.c', to: ['x@y.z'] }] } });
    expect(cfg.notifications.channels[0]).toMatchObject({ port: 587, secure: false, requireTls: true });
    expect(cfg.notifications.channels[0]).not.toHaveProperty('caFile');
    expect(() => parseConfig({ notifications: { channels: [{ type: 'email', id: 'mail', host: 'h', from: 'a@b.c', to: ['x@y.z'], requireTLS: true }] } })).toThrow(
      /notifications\.channels\.0: unknown key "requireTLS"/,
    );
  });

  it('jira: Cloud needs the account email, Data Center takes a personal access token (or username) instead', () => {
    const jira = (over: Record<string, unknown>) => () =>
      parseConfig({ notifications: { channels: [{ type: 'jira', id: 'tickets', url: 'https://jira.example.com', apiToken: 't', project: 'OPS', ...over }] } });
    expect(jira({ flavor: 'datacenter' })().notifications.channels[0]).toMatchObject({ flavor: 'datacenter' });
    expect(jira({ flavor: 'datacenter', username: 'whistle' })).not.toThrow();
    expect(jira({})).toThrow(/notifications\.channels\.0\.email: required for flavor cloud/);
    expect(jira({ flavor: 'datacenter', email: 'a@b.c' })).toThrow(/notifications\.channels\.0\.email: not used by flavor datacenter/);
    expect(jira({ email: 'a@b.c', username: 'x' })).toThrow(/notifications\.channels\.0\.username: not used by flavor cloud/);
    expect(jira({ flavor: 'server' })).toThrow(/notifications\.channels\.0\.flavor: /);
  });

  it('rejects typos, unknown channels and duplicates, naming each field', () => {
    let message = '';
    try {
      parseConfig({
        notifications: {
          groupWait: 10,
          channels: [
            { type: 'slack', id: 'ops', token: 'x', channel: 'C0OPS1' },
            { type: 'slack', id: 'ops', token: 'y', channel: 'C0OPS2' },
            { type: 'email', id: 'mail', host: 'smtp', from: 'a@b.c', to: [] },
          ],
          routes: [{ match: { severity: ['fatal'] }, channels: ['nope'] }],
          escalationChannel: 'ops',
        },
        incidents: { resolveWindow: 5 },
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('notifications: unknown key "groupWait"');
    expect(message).toContain('incidents: unknown key "resolveWindow"');
    expect(message).toMatch(/notifications\.channels\.2\.to: /);
    expect(message).toMatch(/notifications\.routes\.0\.match\.severity\.0: /);
  });

  it('cross-checks routes against channels', () => {
    expect(() =>
      parseConfig({
        notifications: {
          channels: [
            { type: 'slack', id: 'ops', token: 'x', channel: 'C0OPS1' },
            { type: 'slack', id: 'ops', token: 'y', channel: 'C0OPS2' },
          ],
          routes: [{ channels: ['nope'] }],
          defaultChannels: ['gone'],
          escalationChannel: 'ops',
        },
      }),
    ).toThrow(
      /notifications\.channels\.1\.id: duplicate channel id "ops"[\s\S]*notifications\.routes\.0\.channels\.0: unknown channel "nope"[\s\S]*notifications\.defaultChannels\.0: unknown channel "gone"[\s\S]*notifications\.escalationChannel: channel "ops" is not a ticket \(jira\) channel/,
    );
  });
});
