// Cluster-API tasks, run through the node's own member with the node's client certificate: list
// members with each one's status, add (as learner), promote, remove. Each is idempotent.
import { z } from 'zod';
import { endpointStatus, listMembers, sharedClient, type EndpointStatus, type MemberInfo } from '../../bootstrap/etcd/client.ts';
import { paths, type NodeEnv } from './node-env.ts';
import { defineTask } from './task-kind.ts';

const port = z.number().int().min(1).max(65535);
const memberId = z.string().regex(/^\d{1,20}$/, 'must be a decimal member id');
const peerURL = z.string().regex(/^https:\/\/[0-9.]+:\d{1,5}$/, 'must be https://<ipv4>:<port>');

export const tlsOf = (env: NodeEnv) => {
  const f = paths(env);
  return { ca: f.ca, cert: f.clientCert, key: f.key };
};

const localClient = (env: NodeEnv, clientPort: number) => sharedClient(`https://${env.address}:${clientPort}`, tlsOf(env));

export interface MemberView extends MemberInfo {
  status: EndpointStatus | null;
  healthy: boolean;
}

export interface ClusterView {
  members: MemberView[];
  leaderId: string | null;
  /** A linearizable read through the local member succeeded: the cluster has quorum. */
  quorum: boolean;
  revision: number | null;
  localId: string | null;
}

/** Members, each endpoint's status, leader, and whether a quorum read succeeds. */
export async function clusterView(env: NodeEnv, clientPort: number): Promise<ClusterView> {
  const client = localClient(env, clientPort);
  const members = await listMembers(client);
  const statuses = await Promise.all(members.map((m) => (m.clientURLs[0] ? endpointStatus(m.clientURLs[0], tlsOf(env)) : Promise.resolve(null))));
  let quorum = false;
  let revision: number | null = null;
  try {
    const r = await client.get('whistle/health').exec();
    quorum = true;
    revision = Number(r.header.revision);
  } catch {
    quorum = false;
  }
  const leaderId = statuses.find((s) => s?.ok && s.leader && s.leader !== '0')?.leader ?? null;
  const local = statuses.find((s) => s?.endpoint === `https://${env.address}:${clientPort}`);
  return {
    members: members.map((m, i) => {
      const s = statuses[i] ?? null;
      return { ...m, status: s, healthy: Boolean(s?.ok && s.leader && s.leader !== '0' && quorum) };
    }),
    leaderId,
    quorum,
    revision,
    localId: local?.memberId ?? null,
  };
}

export const etcdMembers = defineTask('etcd.members', z.strictObject({ clientPort: port }), async (p, env) => ({ ...(await clusterView(env, p.clientPort)) }));

export const etcdMemberAdd = defineTask(
  'etcd.member-add',
  z.strictObject({ clientPort: port, peerURL, learner: z.boolean().default(true) }),
  async (p, env) => {
    const client = localClient(env, p.clientPort);
    const before = await listMembers(client);
    const existing = before.find((m) => m.peerURLs.includes(p.peerURL));
    if (existing) return { added: false, member: existing, members: before };
    const res = await client.cluster.memberAdd({ peerURLs: [p.peerURL], isLearner: p.learner });
    const members = (res.members ?? []).map((m) => ({ id: String(m.ID), name: m.name ?? '', peerURLs: m.peerURLs ?? [], clientURLs: m.clientURLs ?? [], isLearner: Boolean((m as { isLearner?: boolean }).isLearner) }));
    return { added: true, member: { id: String(res.member.ID), peerURLs: res.member.peerURLs, isLearner: p.learner }, members };
  },
);

export const etcdMemberPromote = defineTask('etcd.member-promote', z.strictObject({ clientPort: port, memberId }), async (p, env) => {
  const client = localClient(env, p.clientPort);
  const m = (await listMembers(client)).find((x) => x.id === p.memberId);
  if (!m) throw new Error(`member ${p.memberId} is not in the cluster`);
  if (!m.isLearner) return { promoted: false, alreadyVoter: true };
  await client.cluster.memberPromote({ ID: p.memberId });
  return { promoted: true };
});

export const etcdMemberRemove = defineTask('etcd.member-remove', z.strictObject({ clientPort: port, memberId }), async (p, env) => {
  const client = localClient(env, p.clientPort);
  const m = (await listMembers(client)).find((x) => x.id === p.memberId);
  if (!m) return { removed: false, notMember: true };
  await client.cluster.memberRemove({ ID: p.memberId });
  return { removed: true, member: m };
});
