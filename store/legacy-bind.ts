// ClickHouse servers before 19.11 have no server-side query parameters. For them, and only them,
// `{name:Type}` placeholders are replaced by typed literals here: every value is formatted by its
// declared type, strings are quoted with ClickHouse's escaping, and a value that does not fit its
// type is refused. Callers still write parameterised SQL; nothing else builds SQL from input.
import { InputError } from '../core/errors.ts';
import type { QueryParams } from './store.ts';

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*):([A-Za-z0-9_(), ']+)\}/g;

export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0')}'`;
}

function literal(value: unknown, type: string, name: string): string {
  const base = type.replace(/^Nullable\((.*)\)$/, '$1');
  if (value === null) {
    if (base !== type) return 'NULL';
    throw new InputError(`query parameter ${name}: null for non-nullable ${type}`);
  }
  if (/^Array\(/.test(base)) {
    if (!Array.isArray(value)) throw new InputError(`query parameter ${name}: expected an array`);
    const inner = base.slice(6, -1);
    return `[${value.map((v) => literal(v, inner, name)).join(',')}]`;
  }
  if (/^(U?Int\d+|Float\d+)$/.test(base)) {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n)) throw new InputError(`query parameter ${name}: not a number`);
    if (/Int/.test(base) && !Number.isInteger(n)) throw new InputError(`query parameter ${name}: not an integer`);
    return String(n);
  }
  if (base === 'String' || /^(LowCardinality\(String\)|FixedString\(\d+\))$/.test(base)) return quoteString(String(value));
  if (base === 'DateTime' || base === 'Date') return `${base === 'Date' ? 'toDate' : 'toDateTime'}(${quoteString(String(value))})`;
  if (base === 'Bool' || base === 'UInt8') return value ? '1' : '0';
  throw new InputError(`query parameter ${name}: type ${type} is not supported on a legacy server`);
}

export function bindLegacy(sql: string, params: QueryParams): string {
  return sql.replace(PLACEHOLDER, (_m, name: string, type: string) => {
    if (!(name in params)) throw new InputError(`query parameter ${name} is missing`);
    return literal(params[name], type.trim(), name);
  });
}
