// What every answer to a fuzzed request must be: never a 5xx, and every 4xx the documented error
// body, `{error, code}` with a registry code whose status is the answer's, and a validation error
// that names the field it is about.
import { ERRORS, isErrorCode } from '../../../core/errors.ts';
import type { Answer } from './http-client.ts';

export type Verdict = { ok: true; code?: string } | { ok: false; problem: string; code?: string };

/**
 * "samples[3].ts: ...", "body.matchers[0].value: ...", "querystring.limit: ...",
 * 'body.samples[0].labels["a b"]: ...', "x-whistle-batch header: ...": a path of identifiers,
 * indexes and quoted keys (or a header) before ": ".
 */
const FIELD = /^(?:[A-Za-z_$][\w$-]*(?:\.[A-Za-z_$][\w$-]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*|[\w-]+ header|query parameter [\w$]+): \S/;

export function namesField(error: string): boolean {
  return FIELD.test(error);
}

export function judge(method: string, a: Answer): Verdict {
  if (a.status >= 500) return { ok: false, problem: `${a.status} answer: ${a.text.slice(0, 200)}` };
  if (a.status < 400) return { ok: true };
  // A HEAD answer has no body to check.
  if (method === 'HEAD') return { ok: true };
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return { ok: false, problem: `${a.status} answer is not JSON: ${a.text.slice(0, 200)}` };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, problem: `${a.status} answer is not an object: ${a.text.slice(0, 200)}` };
  const { error, code, ...rest } = body as Record<string, unknown>;
  if (typeof error !== 'string' || error.length === 0) return { ok: false, problem: `${a.status} answer without an error sentence: ${a.text.slice(0, 200)}` };
  if (typeof code !== 'string' || !isErrorCode(code)) return { ok: false, problem: `${a.status} answer with an unregistered code ${String(code)}: ${a.text.slice(0, 200)}` };
  if (Object.keys(rest).length > 0) return { ok: false, problem: `${a.status} answer with more than {error, code}: ${a.text.slice(0, 200)}`, code };
  if (ERRORS[code].status !== a.status) return { ok: false, problem: `${code} answered with ${a.status}, registry says ${ERRORS[code].status}`, code };
  if (code === 'WHISTLE_INPUT_INVALID' && !namesField(error)) return { ok: false, problem: `validation error names no field: ${error.slice(0, 200)}`, code };
  if (a.status === 429 && !/^\d+$/.test(String(a.headers['retry-after'] ?? ''))) return { ok: false, problem: `429 without Retry-After seconds`, code };
  return { ok: true, code };
}
