// Cluster-API tasks, run through the node's own member with the node's client certificate: list
// members with each one's status, add (as learner), promote, remove. Each is idempotent.
import { endpointStatus, listMembers, sharedClient, toMemberInfo } from '../../bootstrap/etcd/client.ts';
import type { TaskResult } from '../../bootstrap/tasks/contract.ts';
import type { TaskHandler } from './handler.ts';
import { paths, type NodeEnv } from './node-env.ts';

const tlsOf = (env: NodeEnv) => {
  const f = paths(env);
  return { ca: f.ca, cert: f.clientCert, key: f.key };
};

const localClient = (env: NodeEnv, clientPort: number) => sharedClient(`https://${env.address}:${clientPort}`, tlsOf(env));

/** Members, each endpoint's status, leader, and whether a quorum read succeeds. */
async function clusterView(env: NodeEnv, clientPort: number): Promise<TaskResult<'etcd.members'>> {
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

export const etcdMembers: TaskHandler<'etcd.members'> = (p, env) => clusterView(env, p.clientPort);

export const etcdMemberAdd: TaskHandler<'etcd.member-add'> = async (p, env) => {
  const client = localClient(env, p.clientPort);
  const before = await listMembers(client);
  const existing = before.find((m) => m.peerURLs.includes(p.peerURL));
  if (existing) return { added: false, member: existing, members: before };
  const res = await client.cluster.memberAdd({ peerURLs: [p.peerURL], isLearner: p.learner });
  return { added: true, member: { id: String(res.member.ID), peerURLs: res.member.peerURLs, isLearner: p.learner }, members: (res.members ?? []).map(toMemberInfo) };
};

export const etcdMemberPromote: TaskHandler<'etcd.member-promote'> = async (p, env) => {
  const client = localClient(env, p.clientPort);
  const m = (await listMembers(client)).find((x) => x.id === p.memberId);
  if (!m) throw new Error(`member ${p.memberId} is not in the cluster`);
  if (!m.isLearner) return { promoted: false, alreadyVoter: true };
  await client.cluster.memberPromote({ ID: p.memberId });
  return { promoted: true };
};

export const etcdMemberRemove: TaskHandler<'etcd.member-remove'> = async (p, env) => {
  const client = localClient(env, p.clientPort);
  const m = (await listMembers(client)).find((x) => x.id === p.memberId);
  if (!m) return { removed: false, notMember: true };
  await client.cluster.memberRemove({ ID: p.memberId });
  return { removed: true, member: m };
};
