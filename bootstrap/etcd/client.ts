// A TLS etcd3 (gRPC) client for one endpoint, with short deadlines and no hidden retries: callers
// (telemetry, member operations) decide themselves what a failure means.
import { readFileSync } from 'node:fs';
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';

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
  });
}

export interface MemberInfo {
  id: string;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface EndpointStatus {
  endpoint: string;
  ok: boolean;
  error?: string;
  memberId?: string;
  leader?: string;
  raftIndex?: number;
  raftTerm?: number;
  dbSize?: number;
  version?: string;
}

export async function listMembers(client: Etcd3): Promise<MemberInfo[]> {
  const res = await client.cluster.memberList({});
  return (res.members ?? []).map((m) => ({
    id: String(m.ID),
    name: m.name ?? '',
    peerURLs: m.peerURLs ?? [],
    clientURLs: m.clientURLs ?? [],
    isLearner: Boolean((m as { isLearner?: boolean }).isLearner),
  }));
}

/** Maintenance status of one endpoint through its own connection (Status is answered locally, quorum or not). */
export async function endpointStatus(endpoint: string, tls: TlsFiles, deadlineMs = 2_000): Promise<EndpointStatus> {
  const client = openClient(endpoint, tls, deadlineMs);
  try {
    const s = await client.maintenance.status();
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
  } finally {
    client.close();
  }
}
