// Slack that acts: the interactivity endpoint behind the buttons of the notifier's Slack messages.
// A stage of its own because it acts through remediation (approvals) and incidents (silences),
// which come after and before notifications; it reads the notifications section, where each Slack
// channel's `interactivity` lives beside the bot token of the same Slack app.
import { ConfigError } from '../../core/errors.ts';
import { coreServices } from '../../core/services.ts';
import { defineStage } from '../../core/stage.ts';
import { incidentServices } from '../incidents/services.ts';
import { notificationsSchema } from '../notify/config.ts';
import { notifyServices } from '../notify/services.ts';
import { remediationServices } from '../services.ts';
import { SlackActions } from './actions.ts';
import { ResponseUrlPoster } from './response-url.ts';
import { interactivityRoutes, type SlackApp } from './routes.ts';

export const slackActionsStage = defineStage({
  id: 'slack-actions',
  needsFullSchema: true,
  config: { section: 'notifications', schema: notificationsSchema },
  needs: {
    logger: coreServices.logger,
    server: coreServices.server,
    audit: coreServices.audit,
    clock: coreServices.clock,
    incidents: incidentServices.manager,
    notifier: notifyServices.notifier,
    approvals: remediationServices.approvals,
  },
  provides: {},
  async create({ config, deps }) {
    const apps: SlackApp[] = [];
    const problems: string[] = [];
    const operators = new Set(deps.server.operatorTokens.map((t) => t.name));
    config.channels.forEach((c, i) => {
      if (c.type !== 'slack' || !c.interactivity) return;
      for (const [user, operator] of Object.entries(c.interactivity.users))
        if (!operators.has(operator))
          problems.push(`notifications.channels[${i}].interactivity.users.${user}: "${operator}" is not an operator (server.operatorTokens names: ${[...operators].join(', ') || 'none'})`);
      apps.push({ channel: c.id, signingSecret: c.interactivity.signingSecret, users: c.interactivity.users });
    });
    if (problems.length > 0) throw new ConfigError(problems);
    if (apps.length === 0) return { services: {} };
    const log = deps.logger.child({ component: 'slack-actions' });
    const actions = new SlackActions({ incidents: deps.incidents, approvals: deps.approvals, audit: deps.audit, linkFor: (id) => deps.notifier.linkFor(id), now: deps.clock });
    const responder = new ResponseUrlPoster(log);
    return { services: {}, components: [responder], routes: [interactivityRoutes({ apps, actions, responder, log, now: deps.clock })] };
  },
});
