// The catalogue of hostile values a mutation puts in place of a field: wrong types, numbers at and
// past every limit (as literal text where JSON.stringify would change them), strings with unicode
// and control characters, injection and traversal text, prototype keys, deep nesting, huge arrays.
import { RawJson, type JsonNode } from './json-text.ts';
import type { Rng } from './random.ts';

export const WRONG_TYPES: readonly JsonNode[] = [null, true, false, 0, 1, '', 'x', [], {}, [null], { a: 1 }];

export const NUMBERS: readonly JsonNode[] = [
  new RawJson('1e309'),
  new RawJson('-1e309'),
  new RawJson('-0'),
  new RawJson('1e-400'),
  new RawJson('123456789012345678901234567890'),
  new RawJson('-123456789012345678901234567890'),
  new RawJson('0.0000000000000000000000000001'),
  new RawJson('1E+2'),
  new RawJson('1.0'),
  -1,
  -1.5,
  0.5,
  2 ** 31,
  2 ** 32,
  2 ** 53 + 2,
  2 ** 63,
  2 ** 64,
  -(2 ** 63),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  1e21,
  8.64e15,
  8.64e15 + 1,
  253402300800000, // year 10000
];

/** Numbers as strings: what a client that stringifies everything sends. */
export const NUMERIC_STRINGS: readonly JsonNode[] = ['NaN', 'Infinity', '-Infinity', '1e309', '-0', '0x10', ' 1', '1 ', '٣', '1_000', '99999999999999999999999', '-1', '+1', '.5'];

export const STRINGS: readonly JsonNode[] = [
  '\u0000',
  'a\u0000b',
  '\u0001\u0002\u001f\u007f',
  '\n\r\t\b\f\v',
  '\ud800', // lone surrogate
  '\udfff\ud800',
  '\u202eevil', // right-to-left override
  '\u200b\u200d\ufeff',
  '😀👩‍👩‍👧‍👦🏳️‍🌈',
  'Ω≈ç√∫˜µ≤≥÷',
  'ＡＢＣ',
  'e\u0301\u0301\u0301\u0301',
  "'; DROP TABLE samples; --",
  '{node:String}',
  "\\' OR 1=1 --",
  '${7*7}{{7*7}}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '..\\..\\windows',
  '%00',
  '%2e%2e%2f',
  '__proto__',
  'constructor',
  'toString',
  ' ',
  '.',
  '-',
  '_',
];

export const PROTOTYPE_KEYS: readonly string[] = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];

export const ODD_KEYS: readonly string[] = [...PROTOTYPE_KEYS, '', ' ', 'extra', 'a.b', 'a[0]', '$ref', '\u0000', '😀', 'K'.repeat(300), 'samples ', 'Cluster'];

/** A long string: repeated unicode (several bytes each) or plain ASCII. */
export function longString(rng: Rng): string {
  const unit = rng.pick(['x', '😀', 'ü', '\u0000', 'ab"\\']);
  return unit.repeat(rng.pick([256, 4097, 65_536, 300_000]));
}

/** `depth` levels of arrays or objects, built as text (no recursion on either side of the wire). */
export function deepNesting(rng: Rng): RawJson {
  const depth = rng.pick([64, 1_000, 10_000, 100_000]);
  if (rng.chance(0.5)) return new RawJson(`${'['.repeat(depth)}1${']'.repeat(depth)}`);
  return new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
}

/** A large array of `item` (or of small numbers). */
export function hugeArray(rng: Rng, item: JsonNode): JsonNode[] {
  const n = rng.pick([1_000, 10_001, 50_000]);
  const fill = rng.chance(0.5) ? item : 0;
  return Array.from({ length: n }, () => fill);
}

/** Any hostile value, by kind. */
export function hostileValue(rng: Rng, like: JsonNode): JsonNode {
  // The large values are rarer: they cost both sides the most time, and a few hundred of each
  // per 100,000 requests already show what a large input does.
  return rng.weighted<() => JsonNode>([
    [4, () => rng.pick(WRONG_TYPES)],
    [4, () => rng.pick(NUMBERS)],
    [2, () => rng.pick(NUMERIC_STRINGS)],
    [4, () => rng.pick(STRINGS)],
    [0.3, () => longString(rng)],
    [0.3, () => deepNesting(rng)],
    [0.3, () => hugeArray(rng, like)],
    [1, () => (typeof like === 'string' ? like + rng.pick(STRINGS) : like)],
  ])();
}
