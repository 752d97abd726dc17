// Valid requests, one builder per route the fuzzer attacks: telemetry batches, registration, and
// the operator API. Each is a request Whistle accepts as it stands; mutations make it bad.
import type { JsonNode } from './json-text.ts';
import type { Rng } from './random.ts';
import { segments, type FuzzRequest, type SeedKind } from './request.ts';

export interface FuzzNode {
  node: string;
  token: string;
}

/** What the fuzzer may use: names, tokens, and ids it has seen in earlier answers. */
export interface FuzzTargets {
  cluster: string;
  joinToken: string;
  operatorToken: string;
  /** Authorized nodes whose telemetry is fuzzed (never the good-traffic nodes). */
  telemetryNodes: FuzzNode[];
  /** Node names the fuzzer registers, authorizes and revokes. */
  registrationNodes: string[];
  seen: { silences: string[]; maintenance: string[] };
}

/** Label on every fuzzed sample: the store is searched for it afterwards. */
export const FUZZ_LABEL = 'fuzz_id';
export const FUZZ_METRIC = 'fuzz_metric';

type Builder = (rng: Rng, t: FuzzTargets, id: string) => Omit<FuzzRequest, 'kind' | 'mutations'>;

const json = { 'content-type': 'application/json' };
const operator = (t: FuzzTargets) => ({ authorization: `Bearer ${t.operatorToken}` });

function telemetry(rng: Rng, t: FuzzTargets, id: string): Omit<FuzzRequest, 'kind' | 'mutations'> {
  const n = rng.pick(t.telemetryNodes);
  const now = Date.now();
  const samples: JsonNode[] = Array.from({ length: rng.int(1, 5) }, (_, i) => ({
    name: rng.pick([FUZZ_METRIC, 'node_load1', 'node_filesystem_used_bytes', 'ns:metric.sub_1']),
    value: rng.pick([0, 1, i * 1.5, 1e12, -3]),
    ts: now - i * 1000,
    labels: { [FUZZ_LABEL]: id, mount: '/', device: '/dev/sda1' },
  }));
  const headers: Record<string, string> = { ...json, authorization: `Bearer ${n.token}` };
  if (rng.chance(0.3)) headers['x-whistle-batch'] = `fz-${id}:${rng.int(1, 1000)}`;
  return { method: 'POST', segments: segments('v1', 'telemetry'), query: [], headers, body: { cluster: t.cluster, node: n.node, samples }, fuzzId: id };
}

const builders: Record<SeedKind, Builder> = {
  telemetry,
  register: (rng, t) => {
    const body: Record<string, JsonNode> = { cluster: t.cluster, node: rng.pick(t.registrationNodes), joinToken: t.joinToken };
    if (rng.chance(0.5)) body.address = '10.0.0.7';
    if (rng.chance(0.5)) body.agentVersion = '0.1.0';
    return { method: 'POST', segments: segments('v1', 'register'), query: [], headers: { ...json }, body };
  },
  'nodes.list': (rng, t) => ({ method: 'GET', segments: segments('v1', 'nodes'), query: rng.chance(0.5) ? [['cluster', t.cluster]] : [], headers: operator(t) }),
  'nodes.authorize': (rng, t) => ({ method: 'POST', segments: segments('v1', 'nodes', [':', t.cluster], [':', rng.pick(t.registrationNodes)], 'authorize'), query: [], headers: operator(t) }),
  'nodes.revoke': (rng, t) => ({ method: 'POST', segments: segments('v1', 'nodes', [':', t.cluster], [':', rng.pick(t.registrationNodes)], 'revoke'), query: [], headers: operator(t) }),
  'samples.query': (rng, t) => ({
    method: 'GET',
    segments: segments('v1', 'samples'),
    query: [
      ['node', rng.pick(t.telemetryNodes).node],
      ['cluster', t.cluster],
      ['name', FUZZ_METRIC],
      ['since', String(Date.now() - 60_000)],
      ['limit', String(rng.int(1, 50))],
    ],
    headers: operator(t),
  }),
  'silences.create': (rng, t) => {
    const body: Record<string, JsonNode> = { matchers: [{ name: 'cluster', value: t.cluster }, { name: 'detector', value: 'low-.*', regex: true }], comment: 'fuzz' };
    if (rng.chance(0.5)) body.durationMs = 60_000;
    else {
      body.startsAt = new Date(Date.now()).toISOString();
      body.endsAt = Date.now() + 3600_000;
    }
    return { method: 'POST', segments: segments('v1', 'silences'), query: [], headers: { ...json, ...operator(t) }, body };
  },
  'silences.list': (rng, t) => ({ method: 'GET', segments: segments('v1', 'silences'), query: rng.chance(0.5) ? [['active', 'true']] : [], headers: operator(t) }),
  'silences.expire': (rng, t) => ({ method: 'DELETE', segments: segments('v1', 'silences', [':', rng.pick([...t.seen.silences, 'sil-none'])]), query: [], headers: operator(t) }),
  'maintenance.create': (rng, t) => ({
    method: 'POST',
    segments: segments('v1', 'maintenance'),
    query: [],
    headers: { ...json, ...operator(t) },
    body: { cluster: t.cluster, start: Date.now(), end: rng.chance(0.5) ? Date.now() + 600_000 : new Date(Date.now() + 600_000).toISOString(), comment: 'fuzz' },
  }),
  'maintenance.list': (rng, t) => ({ method: 'GET', segments: segments('v1', 'maintenance'), query: [['active', 'false'], ['cluster', t.cluster]], headers: operator(t) }),
  'maintenance.expire': (rng, t) => ({ method: 'DELETE', segments: segments('v1', 'maintenance', [':', rng.pick([...t.seen.maintenance, 'mw-none'])]), query: [], headers: operator(t) }),
  'incidents.list': (rng, t) => ({
    method: 'GET',
    segments: segments('v1', 'incidents'),
    query: [
      ['cluster', t.cluster],
      ['severity', rng.pick(['info', 'warning', 'critical'])],
      ['state', 'open'],
      ['active', 'true'],
      ['limit', '10'],
    ],
    headers: operator(t),
  }),
  'incidents.show': (_rng, t) => ({ method: 'GET', segments: segments('v1', 'incidents', [':', 'inc-none']), query: [], headers: operator(t) }),
  'findings.query': (_rng, t) => ({ method: 'GET', segments: segments('v1', 'findings'), query: [['cluster', t.cluster], ['detector', 'low-disk']], headers: operator(t) }),
  'plans.list': (_rng, t) => ({ method: 'GET', segments: segments('v1', 'plans'), query: [['state', 'pending'], ['cluster', t.cluster]], headers: operator(t) }),
  'plans.approve': (_rng, t) => ({ method: 'POST', segments: segments('v1', 'plans', [':', 'plan-none'], 'approve'), query: [], headers: { ...json, ...operator(t) }, body: { comment: 'fuzz' } }),
  'actions.list': (_rng, t) => ({ method: 'GET', segments: segments('v1', 'actions'), query: [['cluster', t.cluster], ['limit', '5']], headers: operator(t) }),
  'kube.proxy': (_rng, t) => ({ method: 'GET', segments: segments('v1', 'clusters', [':', t.cluster], 'k8s', 'api', 'v1', 'pods'), query: [['limit', '1']], headers: operator(t) }),
  health: (rng) => ({ method: 'GET', segments: segments(rng.pick(['healthz', 'readyz', 'metrics'])), query: [], headers: {} }),
};

/** How often each route is picked: the agent-facing routes most, as an attacker would. */
const WEIGHTS: readonly (readonly [number, SeedKind])[] = [
  [40, 'telemetry'],
  [10, 'register'],
  [3, 'nodes.list'],
  [3, 'nodes.authorize'],
  [2, 'nodes.revoke'],
  [5, 'samples.query'],
  [6, 'silences.create'],
  [2, 'silences.list'],
  [2, 'silences.expire'],
  [5, 'maintenance.create'],
  [2, 'maintenance.list'],
  [2, 'maintenance.expire'],
  [3, 'incidents.list'],
  [2, 'incidents.show'],
  [3, 'findings.query'],
  [1, 'plans.list'],
  [2, 'plans.approve'],
  [1, 'actions.list'],
  [1, 'kube.proxy'],
  [1, 'health'],
];

export function seedRequest(rng: Rng, t: FuzzTargets, id: string): FuzzRequest {
  const kind = rng.weighted(WEIGHTS);
  return { kind, mutations: [], ...builders[kind](rng, t, id) };
}
