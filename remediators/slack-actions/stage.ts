// Slack that acts: the interactivity endpoint behind the buttons of the notifier's Slack messages.
// A stage of its own because it acts through remediation (approvals) and incidents (silences),
// which come after and before notifications; it reads the notifications section, where each Slack
// channel's `interactivity` lives beside the bot token of the same Slack app.
import { consoleServices } from '../../console/services.ts';
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
    /** Operators who sign in to the console with a name and password: Slack users may map to them too. */
    consoleOperators: consoleServices.operators,
  },
  provides: {},
  async create({ config, deps }) {
    const apps: SlackApp[] = [];
    const problems: string[] = [];
    const tokenNames = new Set(deps.server.operatorTokens.map((t) => t.name));
    const isOperator = (name: string) => tokenNames.has(name) || deps.consoleOperators.has(name);
    const mappings: { at: string; operator: string }[] = [];
    config.channels.forEach((c, i) => {
      if (c.type !== 'slack' || !c.interactivity) return;
      for (const [user, operator] of Object.entries(c.interactivity.users)) mappings.push({ at: `notifications.channels[${i}].interactivity.users.${user}`, operator });
      apps.push({ channel: c.id, signingSecret: c.interactivity.signingSecret, users: c.interactivity.users });
    });
    if (apps.length === 0) return { services: {} };
    // Console operators live in the store: the mapping is checked once they are read, at start.
    const mappingCheck = {
      name: 'slack-user-mapping',
      start: async () => {
        await deps.consoleOperators.load();
        for (const m of mappings)
          if (!isOperator(m.operator))
            problems.push(`${m.at}: "${m.operator}" is not an operator (server.operatorTokens names: ${[...tokenNames].join(', ') || 'none'}; console operators: whistle operators)`);
        if (problems.length > 0) throw new ConfigError(problems);
      },
      stop: async () => undefined,
    };
    const log = deps.logger.child({ component: 'slack-actions' });
    const actions = new SlackActions({ incidents: deps.incidents, approvals: deps.approvals, audit: deps.audit, linkFor: (id) => deps.notifier.linkFor(id), now: deps.clock });
    const responder = new ResponseUrlPoster(log);
    return { services: {}, components: [mappingCheck, responder], routes: [interactivityRoutes({ apps, actions, responder, isOperator, log, now: deps.clock })] };
  },
});
