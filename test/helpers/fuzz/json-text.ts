// A JSON tree that can say what JSON.stringify cannot: numbers as written (1e309, -0, 30 digits),
// objects with duplicate keys, and text that is not JSON at all. Mutations work on this tree; the
// request body is its text.
export type JsonNode = null | boolean | number | string | JsonNode[] | JsonObject | RawJson | DupObject;
export interface JsonObject {
  [key: string]: JsonNode;
}

/** Emitted verbatim: a number literal JSON.stringify would rewrite, or deliberately broken text. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object whose entries may repeat a key (JSON.parse keeps the last). */
export class DupObject {
  constructor(readonly entries: [string, JsonNode][]) {}
}

export function isObject(n: JsonNode): n is JsonObject {
  return typeof n === 'object' && n !== null && !Array.isArray(n) && !(n instanceof RawJson) && !(n instanceof DupObject);
}

/** The text would be longer than the budget: mutations compound (a long string in a grown array). */
export class TextTooLong extends Error {}

/** The JSON text of `n`; throws TextTooLong past `maxChars` rather than exhausting memory. */
export function toText(n: JsonNode, maxChars = 16 * 1024 * 1024): string {
  const parts: string[] = [];
  let length = 0;
  const emit = (s: string) => {
    length += s.length;
    if (length > maxChars) throw new TextTooLong(`body text over ${maxChars} characters`);
    parts.push(s);
  };
  // A grown array holds one object 50,000 times: its text is built once.
  const seen = new Map<object, string>();
  const write = (v: JsonNode): void => {
    if (typeof v === 'object' && v !== null && !(v instanceof RawJson)) {
      const known = seen.get(v);
      if (known !== undefined) return emit(known);
      const start = parts.length;
      writeFresh(v);
      seen.set(v, parts.slice(start).join(''));
    } else writeFresh(v);
  };
  const writeFresh = (v: JsonNode): void => {
    if (v instanceof RawJson) emit(v.text);
    else if (v instanceof DupObject || isObject(v)) {
      // Own keys only, "__proto__" included: the fuzzer builds such keys with defineProperty.
      const entries: [string, JsonNode][] = v instanceof DupObject ? v.entries : Object.keys(v).map((k) => [k, v[k]!]);
      emit('{');
      entries.forEach(([k, item], i) => {
        emit(`${i ? ',' : ''}${JSON.stringify(k)}:`);
        write(item);
      });
      emit('}');
    } else if (Array.isArray(v)) {
      emit('[');
      v.forEach((item, i) => {
        if (i) emit(',');
        write(item);
      });
      emit(']');
    } else emit(JSON.stringify(v));
  };
  write(n);
  return parts.join('');
}

/** Sets an own property, even "__proto__", without touching the prototype. */
export function setKey(o: JsonObject, key: string, value: JsonNode): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy (mutations never alter a seed). */
export function clone(n: JsonNode): JsonNode {
  if (n instanceof RawJson) return n;
  if (n instanceof DupObject) return new DupObject(n.entries.map(([k, v]) => [k, clone(v)]));
  if (Array.isArray(n)) return n.map(clone);
  if (isObject(n)) {
    const o: JsonObject = {};
    for (const k of Object.keys(n)) setKey(o, k, clone(n[k]!));
    return o;
  }
  return n;
}
