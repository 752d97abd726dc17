// Reading the fields of a posted form (application/x-www-form-urlencoded, @fastify/formbody): a
// missing, repeated or over-long field is an InputError naming it, answered 400.
import { InputError } from '../core/errors.ts';

export type FormBody = Record<string, string | string[] | undefined>;

export function formOf(body: unknown): FormBody {
  return body && typeof body === 'object' ? (body as FormBody) : {};
}

export function field(body: FormBody, name: string, opts: { required?: boolean; max?: number } = {}): string {
  const v = body[name];
  if (Array.isArray(v)) throw new InputError(`${name}: given more than once`);
  const s = (v ?? '').trim();
  if (opts.required && s === '') throw new InputError(`${name}: required`);
  if (s.length > (opts.max ?? 2000)) throw new InputError(`${name}: at most ${opts.max ?? 2000} characters`);
  return s;
}

export function intField(body: FormBody, name: string, min: number, max: number): number {
  const s = field(body, name, { required: true, max: 20 });
  if (!/^\d+$/.test(s)) throw new InputError(`${name}: not a whole number`);
  const n = Number(s);
  if (n < min || n > max) throw new InputError(`${name}: must be between ${min} and ${max}`);
  return n;
}

/** A datetime-local value (no zone) read as UTC, or epoch ms / ISO 8601. */
export function timeField(body: FormBody, name: string, required: boolean): number | undefined {
  const s = field(body, name, { required, max: 64 });
  if (s === '') return undefined;
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(s) ? `${s}Z` : s;
  const ms = /^\d+$/.test(s) ? Number(s) : /^\d{4}-\d{2}-\d{2}/.test(iso) ? Date.parse(iso) : NaN;
  if (Number.isNaN(ms)) throw new InputError(`${name}: not a date (YYYY-MM-DDTHH:MM, UTC)`);
  return ms;
}

/** Where to go after signing in: only a console path, never another origin. */
export function safeNext(next: string): string {
  return /^\/console\/[^/\\]?/.test(next) && !next.startsWith('//') && !next.includes('\\') ? next : '/console/';
}

/** A field that may be given several times (a multiple select): each value trimmed, none empty. */
export function listField(body: FormBody, name: string, opts: { max: number; maxLength: number }): string[] {
  const v = body[name];
  const list = (Array.isArray(v) ? v : v === undefined ? [] : [v]).map((s) => s.trim());
  if (list.length === 0 || list.every((s) => s === '')) throw new InputError(`${name}: pick at least one`);
  if (list.length > opts.max) throw new InputError(`${name}: at most ${opts.max}`);
  list.forEach((s, i) => {
    if (s === '') throw new InputError(`${name}[${i}]: empty`);
    if (s.length > opts.maxLength) throw new InputError(`${name}[${i}]: at most ${opts.maxLength} characters`);
  });
  return list;
}
