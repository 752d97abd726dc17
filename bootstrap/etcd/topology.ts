// Names and URLs of members, derived from config in one place so plane and agents agree.
import type { EtcdClusterConfig, EtcdNodeConfig } from './config.ts';

export interface MemberRef {
  name: string;
  peerURL: string;
}

const host = (address: string) => (address.includes(':') ? `[${address}]` : address);

export function clientURL(c: Pick<EtcdClusterConfig, 'clientPort'>, address: string): string {
  return `https://${host(address)}:${c.clientPort}`;
}

export function peerURL(c: Pick<EtcdClusterConfig, 'peerPort'>, address: string): string {
  return `https://${host(address)}:${c.peerPort}`;
}

/** The etcd member name for a node: the node name itself. */
export function memberName(n: EtcdNodeConfig): string {
  return n.node;
}

export function initialClusterFlag(members: MemberRef[]): string {
  return members.map((m) => `${m.name}=${m.peerURL}`).join(',');
}

/** Snapshot files are named `<cluster>-<epoch ms>.db`; the name sorts by age. */
export function snapshotFileName(cluster: string, ts: number): string {
  return `${cluster}-${String(ts).padStart(14, '0')}.db`;
}
