// Cluster-API tasks, run through the node's own member: the membership with each member's status,
// and member add (as learner), promote, remove.
import { z } from 'zod';
import { memberId, peerURL, port } from './fields.ts';

export const memberInfo = z.object({
  id: memberId,
  /** Empty until the member has started. */
  name: z.string(),
  peerURLs: z.array(z.string()),
  clientURLs: z.array(z.string()),
  isLearner: z.boolean(),
});

/** One endpoint's maintenance status; only `endpoint`, `ok` and `error` when it did not answer. */
export const endpointStatus = z.object({
  endpoint: z.string(),
  ok: z.boolean(),
  error: z.string().optional(),
  memberId: z.string().optional(),
  leader: z.string().optional(),
  raftIndex: z.number().optional(),
  raftTerm: z.number().optional(),
  dbSize: z.number().optional(),
  version: z.string().optional(),
});

export const memberView = memberInfo.extend({ status: endpointStatus.nullable(), healthy: z.boolean() });

export const clusterView = z.object({
  members: z.array(memberView),
  leaderId: z.string().nullable(),
  /** A linearizable read through the local member succeeded: the cluster has quorum. */
  quorum: z.boolean(),
  revision: z.number().nullable(),
  localId: z.string().nullable(),
});

export type MemberInfo = z.output<typeof memberInfo>;
export type EndpointStatus = z.output<typeof endpointStatus>;

export const etcdMemberTasks = {
  'etcd.members': {
    params: z.strictObject({ clientPort: port }),
    result: clusterView,
  },
  /** Adds `peerURL` unless a member already has it; `member` is the new (or existing) one. */
  'etcd.member-add': {
    params: z.strictObject({ clientPort: port, peerURL, learner: z.boolean().default(true) }),
    result: z.object({
      added: z.boolean(),
      member: z.object({ id: memberId, peerURLs: z.array(z.string()), isLearner: z.boolean() }),
      members: z.array(memberInfo),
    }),
  },
  'etcd.member-promote': {
    params: z.strictObject({ clientPort: port, memberId }),
    result: z.discriminatedUnion('promoted', [z.object({ promoted: z.literal(true) }), z.object({ promoted: z.literal(false), alreadyVoter: z.literal(true) })]),
  },
  'etcd.member-remove': {
    params: z.strictObject({ clientPort: port, memberId }),
    result: z.discriminatedUnion('removed', [z.object({ removed: z.literal(true), member: memberInfo }), z.object({ removed: z.literal(false), notMember: z.literal(true) })]),
  },
};
