// A TLS etcd3 (gRPC) client for one endpoint, with short deadlines and no hidden retries: callers
// (telemetry, member operations) decide themselves what a failure means.
import { readFileSync } from 'node:fs';
import { noop } from 'cockatiel';
import { Etcd3, type IMember } from 'etcd3';
import type { EndpointStatus, MemberInfo } from '../tasks/contract.ts';

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

export function openClient(endpoints: string | string[], tls: TlsFiles, deadlineMs = 3_000): Etcd3 {
  return new Etcd3({
    hosts: endpoints,
    credentials: { rootCertificate: readFileSync(tls.ca), certChain: readFileSync(tls.cert), privateKey: readFileSync(tls.key) },
    dialTimeout: deadlineMs,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + deadlineMs }),
    faultHandling: { host: () => noop, global: noop },
    // A member that comes back must be seen at once: keep gRPC's reconnect backoff short.
    grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1_000 },
  });
}

/**
 * Long-lived clients, one per (endpoint, client certificate): a TLS gRPC connection per call costs
 * far more than the call. Dropped by `closeSharedClients` when certificates change.
 */
const shared = new Map<string, Etcd3>();

export function sharedClient(endpoint: string, tls: TlsFiles): Etcd3 {
  const key = `${endpoint}|${tls.cert}`;
  let c = shared.get(key);
  if (!c) shared.set(key, (c = openClient(endpoint, tls, 2_000)));
  return c;
}

export function closeSharedClients(): void {
  for (const c of shared.values()) c.close();
  shared.clear();
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() => clearTimeout(t));
}

/** etcd3's member as the contract carries it; `isLearner` is on the wire but missing from etcd3's typings. */
export function toMemberInfo(m: IMember): MemberInfo {
  return {
    id: String(m.ID),
    name: m.name ?? '',
    peerURLs: m.peerURLs ?? [],
    clientURLs: m.clientURLs ?? [],
    isLearner: Boolean((m as { isLearner?: boolean }).isLearner),
  };
}

export async function listMembers(client: Etcd3): Promise<MemberInfo[]> {
  const res = await client.cluster.memberList({});
  return (res.members ?? []).map(toMemberInfo);
}

/** Maintenance status of one endpoint through its own connection (Status is answered locally, quorum or not). */
export async function endpointStatus(endpoint: string, tls: TlsFiles, deadlineMs = 2_000): Promise<EndpointStatus> {
  const first = await statusVia(sharedClient(endpoint, tls), endpoint, deadlineMs);
  if (first.ok) return first;
  // A shared connection can still be in reconnect backoff from an earlier outage: confirm a failure
  // on a fresh connection before calling the member down.
  const fresh = openClient(endpoint, tls, deadlineMs);
  try {
    return await statusVia(fresh, endpoint, deadlineMs);
  } finally {
    fresh.close();
  }
}

async function statusVia(client: Etcd3, endpoint: string, deadlineMs: number): Promise<EndpointStatus> {
  try {
    const s = await withDeadline(client.maintenance.status(), deadlineMs);
    return {
      endpoint,
      ok: true,
      memberId: String(s.header.member_id),
      leader: String(s.leader),
      raftIndex: Number(s.raftIndex),
      raftTerm: Number(s.raftTerm),
      dbSize: Number(s.dbSize),
      version: s.version,
    };
  } catch (err) {
    return { endpoint, ok: false, error: (err as Error).message.split('\n')[0] };
  }
}
