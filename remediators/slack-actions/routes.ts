// Slack's Interactivity Request URL: POST /v1/slack/interactivity, form-encoded as Slack sends it.
// The order is the security: the signature over the raw body first (nothing is parsed before it
// verifies), then the payload, then the user's operator, then the action. The acknowledgement
// goes back within Slack's 3 s: an action still running then finishes and reports through
// response_url.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ForbiddenError, WhistleError } from '../../core/errors.ts';
import type { RoutePlugin } from '../../core/stage.ts';
import type { Outcome, SlackActions } from './actions.ts';
import { parseInteraction, type Interaction } from './payload.ts';
import type { ResponseUrlPoster } from './response-url.ts';
import { verifySlackRequest } from './signature.ts';

/** One Slack app: its signing secret and who may act through it. */
export interface SlackApp {
  channel: string;
  signingSecret: string;
  users: Record<string, string>;
}

export interface InteractivityDeps {
  apps: SlackApp[];
  actions: SlackActions;
  responder: ResponseUrlPoster;
  /** True for an operator token's name or a console operator's: a mapping to someone removed since acts as nobody. */
  isOperator: (name: string) => boolean;
  log: Logger;
  now: () => number;
  /** Acknowledge by then even if the action is still running (Slack's limit is 3 s). */
  ackWithinMs?: number;
}

export const INTERACTIVITY_PATH = '/v1/slack/interactivity';

export function interactivityRoutes(d: InteractivityDeps): RoutePlugin {
  const ackWithinMs = d.ackWithinMs ?? 2_000;
  return async (app) => {
    // The signature is over the body's exact bytes, so this route keeps them (encapsulated: other
    // routes' form parsing, if any, is unaffected).
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    app.post(INTERACTIVITY_PATH, async (req: FastifyRequest, reply: FastifyReply) => {
      if (typeof req.body !== 'string') throw new WhistleError('WHISTLE_UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/x-www-form-urlencoded (as Slack sends interactions)');
      const rawBody = req.body;
      const which = verifySlackRequest({ timestamp: req.headers['x-slack-request-timestamp'], signature: req.headers['x-slack-signature'], rawBody }, d.apps.map((a) => a.signingSecret), d.now());
      const slackApp = d.apps[which]!;
      const interaction = parseInteraction(rawBody);
      const context = { slackUser: interaction.userId, action: interaction.actionId, incident: interaction.incidentId };
      const operator = slackApp.users[interaction.userId];
      if (!operator) {
        d.log.warn({ ...context, slackUserName: interaction.userName }, 'slack: refused an action from a user mapped to no operator');
        d.responder.post(interaction.responseUrl, { response_type: 'ephemeral', replace_original: false, text: `Whistle did nothing: your Slack user ${interaction.userId} is not mapped to a Whistle operator (notifications.channels[].interactivity.users).` }, context);
        throw new ForbiddenError(`payload.user.id: Slack user ${interaction.userId} is mapped to no operator (notifications.channels[].interactivity.users)`);
      }
      if (!d.isOperator(operator)) {
        d.log.warn({ ...context, operator }, 'slack: refused an action from a user mapped to an operator who no longer exists');
        d.responder.post(interaction.responseUrl, { response_type: 'ephemeral', replace_original: false, text: `Whistle did nothing: your Slack user ${interaction.userId} is mapped to "${operator}", who is no longer a Whistle operator.` }, context);
        throw new ForbiddenError(`payload.user.id: Slack user ${interaction.userId} is mapped to "${operator}", who is no longer an operator (removed from the console or server.operatorTokens)`);
      }
      const outcome = await withinAck(act(d, interaction, operator, context), ackWithinMs);
      if (!outcome) return reply.code(200).send({ ok: true, text: 'accepted; the result follows in the message' });
      return reply.code(outcome.status).send({ ok: outcome.done, text: outcome.text, operator });
    });
  };
}

/** Acts, logs, and answers through response_url; resolves with the outcome (or its error as one). */
async function act(d: InteractivityDeps, i: Interaction, operator: string, context: Record<string, unknown>): Promise<Outcome> {
  let outcome: Outcome;
  try {
    outcome = await d.actions.act(i, operator);
  } catch (err) {
    const e = err instanceof WhistleError ? err : null;
    if (!e) d.log.error({ ...context, operator, err: (err as Error).message }, 'slack: the action failed');
    outcome = { status: e?.httpStatus ?? 500, done: false, text: e?.message ?? 'the action failed inside Whistle (see its log)', ephemeral: `Whistle could not do it: ${e?.message ?? 'an internal error (see its log)'}.` };
  }
  d.log.info({ ...context, operator, done: outcome.done, result: outcome.text }, 'slack action');
  if (outcome.blocks) d.responder.post(i.responseUrl, { replace_original: true, text: outcome.text, blocks: outcome.blocks }, context);
  else if (outcome.ephemeral) d.responder.post(i.responseUrl, { response_type: 'ephemeral', replace_original: false, text: outcome.ephemeral }, context);
  return outcome;
}

function withinAck<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
