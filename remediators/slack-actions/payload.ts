// What a pressed button sends: a form-encoded body whose one field, `payload`, is the JSON of a
// `block_actions` interaction (user, the action pressed, the message it sits in, a response_url).
// Only what Whistle acts on is read; anything missing or mistyped is refused naming the field.
import { InputError } from '../../core/errors.ts';
import { SLACK_ACTIONS } from '../notify/channels/slack-blocks.ts';

export type ActionId = (typeof SLACK_ACTIONS)[keyof typeof SLACK_ACTIONS];
const KNOWN = new Set<string>(Object.values(SLACK_ACTIONS));

export interface Interaction {
  userId: string;
  /** The Slack username, for the log only: who acts is the operator the user ID maps to. */
  userName: string;
  actionId: ActionId;
  /** The incident id the button carries. */
  incidentId: string;
  /** Where to answer (replace the message, or tell the user something only they see). */
  responseUrl: string;
  channelId?: string;
  messageTs?: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(obj: Json, key: string, path: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v.length === 0) throw new InputError(`${path}.${key}: required, a string`);
  return v;
}

export function parseInteraction(rawBody: string): Interaction {
  const form = new URLSearchParams(rawBody);
  const text = form.get('payload');
  if (text === null) throw new InputError('body.payload: required (Slack sends the interaction as a form field "payload" holding JSON)');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (err) {
    throw new InputError(`body.payload: not JSON (${(err as Error).message})`);
  }
  if (!isObject(payload)) throw new InputError('body.payload: must be a JSON object');
  const type = str(payload, 'type', 'payload');
  if (type !== 'block_actions') throw new InputError(`payload.type: "${type.slice(0, 40)}" is not handled (only block_actions: the buttons of Whistle's messages)`);
  const user = payload.user;
  if (!isObject(user)) throw new InputError('payload.user: required, an object');
  const userId = str(user, 'id', 'payload.user');
  const responseUrl = str(payload, 'response_url', 'payload');
  let url: URL;
  try {
    url = new URL(responseUrl);
  } catch {
    throw new InputError('payload.response_url: not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InputError('payload.response_url: must be an http(s) URL');
  const actions = payload.actions;
  if (!Array.isArray(actions) || actions.length === 0) throw new InputError('payload.actions: required, a non-empty array');
  const action = actions[0] as unknown;
  if (!isObject(action)) throw new InputError('payload.actions[0]: must be an object');
  const actionId = str(action, 'action_id', 'payload.actions[0]');
  if (!KNOWN.has(actionId)) throw new InputError(`payload.actions[0].action_id: "${actionId.slice(0, 60)}" is not one of Whistle's buttons (${[...KNOWN].join(', ')})`);
  const incidentId = str(action, 'value', 'payload.actions[0]');
  const container = isObject(payload.container) ? payload.container : {};
  const channel = isObject(payload.channel) ? payload.channel : {};
  const interaction: Interaction = {
    userId,
    userName: typeof user.username === 'string' ? user.username : typeof user.name === 'string' ? user.name : '',
    actionId: actionId as ActionId,
    incidentId,
    responseUrl: url.toString(),
  };
  const channelId = typeof container.channel_id === 'string' ? container.channel_id : typeof channel.id === 'string' ? channel.id : undefined;
  if (channelId) interaction.channelId = channelId;
  if (typeof container.message_ts === 'string') interaction.messageTs = container.message_ts;
  return interaction;
}
