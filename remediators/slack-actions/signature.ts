// Slack's request signing, as Slack documents it ("Verifying requests from Slack"): the signature
// is `v0=` and the hex HMAC-SHA256, keyed with the app's signing secret, of `v0:<timestamp>:<raw
// body>`, sent in X-Slack-Signature with the timestamp in X-Slack-Request-Timestamp. A request
// whose timestamp is more than five minutes from our clock is refused, so a recorded request cannot
// be replayed later; the comparison is constant-time, so the signature cannot be guessed byte by byte.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UnauthorizedError } from '../../core/errors.ts';

/** How far the request's timestamp may be from our clock (Slack: five minutes). */
export const MAX_SKEW_SECONDS = 5 * 60;

export function slackSignature(secret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

export interface SignedRequest {
  timestamp: string | string[] | undefined;
  signature: string | string[] | undefined;
  rawBody: string;
}

/**
 * Returns the index of the secret that signed the request (one per configured Slack app), or
 * throws an UnauthorizedError naming what is wrong: a missing header, a stale timestamp, a
 * signature that no secret produced.
 */
export function verifySlackRequest(req: SignedRequest, secrets: readonly string[], nowMs: number): number {
  const timestamp = single(req.timestamp);
  const signature = single(req.signature);
  if (!timestamp) throw new UnauthorizedError('x-slack-request-timestamp: missing (requests must come from Slack, signed)');
  if (!signature) throw new UnauthorizedError('x-slack-signature: missing (requests must come from Slack, signed)');
  if (!/^\d{1,12}$/.test(timestamp)) throw new UnauthorizedError('x-slack-request-timestamp: not a Unix time in seconds');
  const skew = Math.abs(Math.floor(nowMs / 1000) - Number(timestamp));
  if (skew > MAX_SKEW_SECONDS) throw new UnauthorizedError(`x-slack-request-timestamp: ${skew} s from this server's clock, more than the ${MAX_SKEW_SECONDS} s allowed (a replayed request, or a clock off)`);
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) throw new UnauthorizedError('x-slack-signature: not a v0 signature (v0= and 64 hex digits)');
  const given = Buffer.from(signature);
  let match = -1;
  // Every secret is tried (no early exit), so the time taken says nothing about which one matched.
  secrets.forEach((secret, i) => {
    const expected = Buffer.from(slackSignature(secret, timestamp, req.rawBody));
    if (expected.length === given.length && timingSafeEqual(expected, given) && match < 0) match = i;
  });
  if (match < 0) throw new UnauthorizedError('x-slack-signature: does not match the request (wrong signing secret, or the body was changed)');
  return match;
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
