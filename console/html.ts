// HTML built by construction: every value interpolated into html`` is escaped unless it is itself
// the result of html`` (or raw(), for markup this module's callers wrote themselves). Arrays are
// joined, null/undefined/false render nothing. So a cluster, node, operator name or finding that
// carries markup is shown as text, never run.

const SAFE = Symbol('safe-html');

export interface SafeHtml {
  readonly [SAFE]: true;
  readonly html: string;
  toString(): string;
}

function safe(s: string): SafeHtml {
  return { [SAFE]: true, html: s, toString: () => s };
}

export function isSafe(v: unknown): v is SafeHtml {
  return typeof v === 'object' && v !== null && (v as { [SAFE]?: boolean })[SAFE] === true;
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ENTITIES[c]!);
}

function render(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (isSafe(v)) return v.html;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** The tagged template: literal parts are trusted markup, interpolations are escaped. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return safe(out);
}

/** Markup written in this code base (never data), passed through unescaped. */
export function raw(markup: string): SafeHtml {
  return safe(markup);
}
