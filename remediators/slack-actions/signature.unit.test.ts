// Slack's request signing against the worked example in Slack's "Verifying requests from Slack".
import { describe, expect, it } from 'vitest';
import { UnauthorizedError } from '../../core/errors.ts';
import { slackSignature, verifySlackRequest } from './signature.ts';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TS = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const AT = Number(TS) * 1000;

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UnauthorizedError);
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('Slack request signatures', () => {
  it("compute Slack's documented example", () => {
    expect(slackSignature(SECRET, TS, BODY)).toBe(SIGNATURE);
  });

  it('accept it within five minutes, naming which secret signed it', () => {
    expect(verifySlackRequest({ timestamp: TS, signature: SIGNATURE, rawBody: BODY }, ['another-secret-0000000', SECRET], AT + 299_000)).toBe(1);
    expect(verifySlackRequest({ timestamp: TS, signature: SIGNATURE, rawBody: BODY }, [SECRET], AT - 300_000)).toBe(0);
  });

  it('refuse a stale or future timestamp, a changed body, another secret, and missing or malformed headers', () => {
    const ok = { timestamp: TS, signature: SIGNATURE, rawBody: BODY };
    expect(refusal(() => verifySlackRequest(ok, [SECRET], AT + 301_000))).toMatch(/^x-slack-request-timestamp: 301 s from/);
    expect(refusal(() => verifySlackRequest(ok, [SECRET], AT - 400_000))).toMatch(/^x-slack-request-timestamp: 400 s from/);
    expect(refusal(() => verifySlackRequest({ ...ok, rawBody: BODY.replace('text=', 'text=x') }, [SECRET], AT))).toMatch(/^x-slack-signature: does not match/);
    expect(refusal(() => verifySlackRequest(ok, ['not-the-secret-000000'], AT))).toMatch(/^x-slack-signature: does not match/);
    expect(refusal(() => verifySlackRequest({ ...ok, signature: undefined }, [SECRET], AT))).toMatch(/^x-slack-signature: missing/);
    expect(refusal(() => verifySlackRequest({ ...ok, timestamp: undefined }, [SECRET], AT))).toMatch(/^x-slack-request-timestamp: missing/);
    expect(refusal(() => verifySlackRequest({ ...ok, timestamp: '15e8' }, [SECRET], AT))).toMatch(/not a Unix time/);
    expect(refusal(() => verifySlackRequest({ ...ok, signature: 'v1=abc' }, [SECRET], AT))).toMatch(/not a v0 signature/);
    // A signature of the right length but another case is not the hex Slack sends.
    expect(refusal(() => verifySlackRequest({ ...ok, signature: SIGNATURE.toUpperCase().replace('V0', 'v0') }, [SECRET], AT))).toMatch(/not a v0 signature/);
  });
});
