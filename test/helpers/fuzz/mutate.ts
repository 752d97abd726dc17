// Structure-aware mutations. A body mutation picks one place in the JSON tree (the root, a field,
// an array item) and breaks it: a hostile value, a missing or extra field, a repeated key, a
// wrapped or grown value, an edited string. A request mutation breaks what is around the body:
// its text (truncated, not UTF-8), content-type, method, query string, path parameters, auth.
import { clone, DupObject, isObject, setKey, toText, type JsonNode } from './json-text.ts';
import type { Rng } from './random.ts';
import { bodyOf, percentEncode, type FuzzRequest } from './request.ts';
import { hostileValue, hugeArray, NUMERIC_STRINGS, ODD_KEYS, STRINGS } from './values.ts';

interface Slot {
  path: string;
  value: JsonNode;
  /** Replaces the value in its parent (or the root). */
  set(v: JsonNode): void;
  /** Removes it from its parent; undefined for the root. */
  remove?: () => void;
}

function slots(req: FuzzRequest): Slot[] {
  const out: Slot[] = [];
  const visit = (value: JsonNode, path: string, set: (v: JsonNode) => void, remove?: () => void): void => {
    out.push({ path, value, set, remove });
    if (Array.isArray(value)) {
      // Large arrays: a few items are enough places to aim at.
      for (let i = 0; i < Math.min(value.length, 8); i++)
        visit(value[i]!, `${path}[${i}]`, (v) => (value[i] = v), () => value.splice(i, 1));
    } else if (isObject(value)) {
      for (const k of Object.keys(value))
        visit(value[k]!, `${path}.${k}`, (v) => setKey(value, k, v), () => delete value[k]);
    }
  };
  if (req.body !== undefined) visit(req.body, 'body', (v) => (req.body = v));
  return out;
}

function editString(rng: Rng, s: string): string {
  const at = rng.int(0, s.length);
  return rng.weighted<() => string>([
    [3, () => s.slice(0, at) + String(rng.pick(STRINGS)) + s.slice(at)],
    [1, () => s.slice(0, at)],
    [1, () => s.repeat(rng.pick([2, 100, 5000]))],
    [1, () => s.toUpperCase()],
    [1, () => ` ${s} `],
  ])();
}

type BodyMutation = (rng: Rng, slot: Slot) => string | null;

const bodyMutations: Record<string, BodyMutation> = {
  replace: (rng, slot) => {
    slot.set(clone(hostileValue(rng, slot.value)));
    return `replace ${slot.path}`;
  },
  delete: (_rng, slot) => {
    if (!slot.remove) return null;
    slot.remove();
    return `delete ${slot.path}`;
  },
  'add-key': (rng, slot) => {
    if (!isObject(slot.value)) return null;
    const key = rng.pick(ODD_KEYS);
    setKey(slot.value, key, clone(hostileValue(rng, null)));
    return `add ${slot.path}[${JSON.stringify(key.slice(0, 20))}]`;
  },
  'duplicate-key': (rng, slot) => {
    if (!isObject(slot.value) || Object.keys(slot.value).length === 0) return null;
    const o = slot.value;
    const entries: [string, JsonNode][] = Object.keys(o).map((k) => [k, o[k]!]);
    const [key] = rng.pick(entries);
    const dup: [string, JsonNode] = [key, clone(hostileValue(rng, o[key]!))];
    // Before: the valid value wins (JSON.parse keeps the last); after: the hostile one does.
    if (rng.chance(0.5)) entries.unshift(dup);
    else entries.push(dup);
    slot.set(new DupObject(entries));
    return `duplicate ${slot.path}.${key}`;
  },
  wrap: (rng, slot) => {
    slot.set(rng.chance(0.5) ? [slot.value] : { value: slot.value });
    return `wrap ${slot.path}`;
  },
  grow: (rng, slot) => {
    if (!Array.isArray(slot.value)) return null;
    slot.set(hugeArray(rng, slot.value[0] ?? null));
    return `grow ${slot.path}`;
  },
  retype: (rng, slot) => {
    const v = slot.value;
    if (typeof v === 'number') slot.set(rng.chance(0.5) ? String(v) : rng.pick(NUMERIC_STRINGS));
    else if (typeof v === 'string') slot.set(/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v.length);
    else if (typeof v === 'boolean') slot.set(String(v));
    else return null;
    return `retype ${slot.path}`;
  },
  'edit-string': (rng, slot) => {
    if (typeof slot.value !== 'string') return null;
    slot.set(editString(rng, slot.value));
    return `edit ${slot.path}`;
  },
};

const CONTENT_TYPES = [
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/jsonx',
  'application/json, text/plain',
  'application/vnd.api+json',
  '*/*',
  ';',
];

const QUERY_GARBAGE = [
  'limit=1e309',
  'limit=-1&limit=2',
  'limit=NaN',
  'since=99999999999999999999999',
  'since=-1',
  'node[]=a',
  'node[a]=b',
  '__proto__[x]=1',
  'constructor[prototype][x]=1',
  '%zz=%zz',
  '%',
  '=&&&==',
  'a=%00',
  'active=maybe',
  'cluster=' + 'x'.repeat(5000),
  'node=' + '%F0%9F%98%80'.repeat(100),
  '&&node=..%2F..%2Fetc',
];

const PARAM_GARBAGE = ['..', '.', '%2e%2e', '%2e%2e%2f%2e%2e', '..%2F..%2Fetc%2Fpasswd', '%00', '%zz', '%', 'a%2Fb', '%F0%9F%98%80', '%C0%AE', '', 'x'.repeat(300), '%20', '__proto__', 'constructor', '*'];

const AUTH_GARBAGE = ['', 'Bearer', 'Bearer ', 'Bearer  ', 'bearer x', 'Basic dXNlcjpwYXNz', 'Bearer a b', 'Token abc', `Bearer ${'A'.repeat(8192)}`, 'Bearer \t', 'Bearer %00', 'Bearer ÿÿÿ'];

type RequestMutation = (rng: Rng, req: FuzzRequest) => string | null;

const requestMutations: Record<string, RequestMutation> = {
  truncate: (rng, req) => {
    const body = bodyOf(req);
    if (!body || body.length < 2) return null;
    req.bodyBytes = body.subarray(0, rng.int(1, body.length - 1));
    return 'truncate body';
  },
  'not-utf8': (rng, req) => {
    const body = bodyOf(req) ?? Buffer.alloc(0);
    const at = rng.int(0, body.length);
    req.bodyBytes = Buffer.concat([body.subarray(0, at), Buffer.from(rng.pick([[0xff, 0xfe], [0xc0, 0xae], [0xed, 0xa0, 0x80], [0x00]])), body.subarray(at)]);
    return 'invalid UTF-8 in body';
  },
  'whole-body': (rng, req) => {
    const text = rng.pick(['', 'null', '[]', '"x"', '1', 'true', '{}', '\ufeff{}', '{"a":1}{"b":2}', '{,}', '{"a":}', "{'a':1}", 'NaN', '[1,]', '{"a":1,}']);
    req.bodyBytes = Buffer.from(text);
    return `body ${JSON.stringify(text)}`;
  },
  bom: (_rng, req) => {
    const body = bodyOf(req);
    if (!body) return null;
    req.bodyBytes = Buffer.concat([Buffer.from('\ufeff'), body]);
    return 'BOM before body';
  },
  'content-type': (rng, req) => {
    const ct = rng.pick(CONTENT_TYPES);
    if (ct === undefined) delete req.headers['content-type'];
    else req.headers['content-type'] = ct;
    return `content-type ${ct ?? '(none)'}`;
  },
  method: (rng, req) => {
    req.method = rng.pick(['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'POST', 'HEAD'].filter((m) => m !== req.method));
    return `method ${req.method}`;
  },
  query: (rng, req) => {
    if (rng.chance(0.4)) {
      req.rawQuery = rng.pick(QUERY_GARBAGE);
      return `query ${req.rawQuery.slice(0, 40)}`;
    }
    const action = rng.pick(['drop', 'dup', 'value', 'extra'] as const);
    if (action === 'drop' && req.query.length > 0) req.query.splice(rng.int(0, req.query.length - 1), 1);
    else if (action === 'dup' && req.query.length > 0) req.query.push([rng.pick(req.query)[0], String(rng.pick(STRINGS))]);
    else if (action === 'value' && req.query.length > 0) rng.pick(req.query)[1] = rng.chance(0.5) ? String(rng.pick(NUMERIC_STRINGS)) : String(rng.pick(STRINGS));
    else req.query.push([rng.pick(ODD_KEYS), String(rng.pick(STRINGS))]);
    return `query ${action}`;
  },
  param: (rng, req) => {
    const params = req.segments.filter((s) => s.param);
    if (params.length === 0) return null;
    const seg = rng.pick(params);
    seg.text = rng.chance(0.7) ? rng.pick(PARAM_GARBAGE) : percentEncode(String(rng.pick(STRINGS)));
    return `param ${seg.text.slice(0, 30)}`;
  },
  path: (rng, req) => {
    const choice = rng.pick(['trailing', 'double', 'extra', 'case', 'dot'] as const);
    if (choice === 'trailing') req.segments.push({ text: '', param: false });
    else if (choice === 'double') req.segments.splice(1, 0, { text: '', param: false });
    else if (choice === 'extra') req.segments.push({ text: rng.pick(PARAM_GARBAGE), param: false });
    else if (choice === 'case') req.segments[0] = { text: req.segments[0]!.text.toUpperCase(), param: false };
    else req.segments.splice(1, 0, { text: '..', param: false }, { text: rng.pick(['v1', 'v2', 'etc']), param: false });
    return `path ${choice}`;
  },
  auth: (rng, req) => {
    const a = rng.pick(AUTH_GARBAGE);
    if (rng.chance(0.2)) delete req.headers.authorization;
    else req.headers.authorization = a;
    return `auth ${JSON.stringify(a.slice(0, 20))}`;
  },
  'batch-header': (rng, req) => {
    req.headers['x-whistle-batch'] = rng.pick(['', ':', 'a:', ':1', 'a:-1', 'a:1e3', 'a:99999999999999999999', `${'e'.repeat(65)}:1`, 'a:1:2', 'a b:1', 'x\u00ff:1']);
    return `x-whistle-batch ${req.headers['x-whistle-batch']}`;
  },
  'big-header': (rng, req) => {
    req.headers[rng.pick(['x-junk', 'cookie', 'user-agent'])] = 'h'.repeat(rng.pick([1000, 8000, 20_000]));
    return 'big header';
  },
};

const BODY_OPS = Object.keys(bodyMutations);
const REQUEST_OPS = Object.keys(requestMutations);

/** Applies 1-3 mutations (most often one), favouring body structure when there is a body. */
export function mutate(rng: Rng, req: FuzzRequest): FuzzRequest {
  const count = rng.weighted([
    [6, 1],
    [3, 2],
    [1, 3],
  ] as const);
  for (let i = 0, tries = 0; i < count && tries < 20; tries++) {
    const onBody = req.body !== undefined && !req.bodyBytes && rng.chance(0.65);
    let applied: string | null;
    if (onBody) {
      const slot = rng.pick(slots(req));
      applied = bodyMutations[rng.pick(BODY_OPS)]!(rng, slot);
    } else {
      applied = requestMutations[rng.pick(REQUEST_OPS)]!(rng, req);
    }
    if (applied) {
      req.mutations.push(applied);
      i++;
    }
  }
  return req;
}

/** The body's text, shortened for a report. */
export function describeBody(req: FuzzRequest): string {
  const text = req.bodyBytes ? req.bodyBytes.toString('utf8') : req.body !== undefined ? toText(req.body) : '';
  return text.length > 300 ? `${text.slice(0, 300)}... (${text.length} chars)` : text;
}
