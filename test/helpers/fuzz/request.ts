// One request as the fuzzer sees it: structure a mutation can change (path segments, query pairs,
// headers, the body as a JSON tree) and what it becomes on the wire.
import { toText, type JsonNode } from './json-text.ts';

export type SeedKind =
  | 'telemetry'
  | 'register'
  | 'nodes.list'
  | 'nodes.authorize'
  | 'nodes.revoke'
  | 'samples.query'
  | 'silences.create'
  | 'silences.list'
  | 'silences.expire'
  | 'maintenance.create'
  | 'maintenance.list'
  | 'maintenance.expire'
  | 'incidents.list'
  | 'incidents.show'
  | 'findings.query'
  | 'plans.list'
  | 'plans.approve'
  | 'actions.list'
  | 'kube.proxy'
  | 'health';

export interface PathSegment {
  /** As sent: already percent-encoded where needed (a mutation may put raw text here). */
  text: string;
  /** A route parameter (node, id...), the segments mutations aim at. */
  param: boolean;
}

export interface FuzzRequest {
  kind: SeedKind;
  method: string;
  segments: PathSegment[];
  /** Key/value pairs, encoded on the wire unless `rawQuery` replaces them. */
  query: [string, string][];
  rawQuery?: string;
  headers: Record<string, string>;
  body?: JsonNode;
  /** Replaces the body's text (truncated JSON, bytes that are not UTF-8). */
  bodyBytes?: Buffer;
  /** Telemetry: the `fuzz_id` label every sample of this request carries. */
  fuzzId?: string;
  /** What was done to the seed, for the report of a failure. */
  mutations: string[];
}

export function pathOf(r: FuzzRequest): string {
  const path = `/${r.segments.map((s) => s.text).join('/')}`;
  const query = r.rawQuery ?? r.query.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
  return query ? `${path}?${query}` : path;
}

export function bodyOf(r: FuzzRequest): Buffer | undefined {
  if (r.bodyBytes) return r.bodyBytes;
  if (r.body === undefined) return undefined;
  return Buffer.from(toText(r.body));
}

/** Path segments from a route, e.g. `seg('v1', 'nodes', [':', cluster], [':', node], 'authorize')`. */
export function segments(...parts: (string | [':', string])[]): PathSegment[] {
  return parts.map((p) => (typeof p === 'string' ? { text: p, param: false } : { text: percentEncode(p[1]), param: true }));
}

/** Percent-encodes the UTF-8 bytes of `s`; unlike encodeURIComponent, never throws (lone surrogates). */
export function percentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
