// How the fleet's answers print: a cluster, its nodes, the plan of an attach or detach.
import type { ChangeResult, ClusterDetail, FleetNodeView } from '../../bootstrap/fleet/fleet.ts';
import type { Placement } from '../../bootstrap/fleet/placement.ts';
import type { ClusterView } from '../../core/clusters/catalog.ts';
import { printInfo } from './etcd.ts';
import { ago, table } from '../table.ts';

export function nodesTable(nodes: FleetNodeView[]): string {
  return table(
    ['CLUSTER', 'NODE', 'ROLE', 'ZONE', 'STATUS', 'ADDRESS', 'AGENT', 'REGISTERED'],
    nodes.map((n) => [n.cluster, n.node, n.role || '-', n.zone ? `${n.zone}${n.zoneFrom === 'kubernetes' ? ' (k8s label)' : ''}` : '-', n.status, n.address || '-', n.agentVersion || '-', ago(n.registeredAt)]),
  );
}

export function clustersTable(clusters: ClusterView[], counts: Map<string, number>): string {
  return table(
    ['CLUSTER', 'SOURCE', 'NODES', 'KUBERNETES', 'ETCD PORTS', 'CREATED', 'BY'],
    clusters.map((c) => [c.name, c.source, counts.get(c.name) ?? 0, c.kubeAccess === 'none' ? '-' : `${c.kubeAccess}${c.kubeContext ? ` (${c.kubeContext})` : ''}`, `${c.etcd.clientPort}/${c.etcd.peerPort}`, ago(c.createdAt), c.createdBy]),
  );
}

export function printDetail(d: ClusterDetail): string {
  const c = d.cluster;
  const head = [
    `cluster ${c.name} (${c.source}), created ${new Date(c.createdAt).toISOString()} by ${c.createdBy}`,
    `  join token rotated ${new Date(c.tokenRotatedAt).toISOString()}; Kubernetes access: ${c.kubeAccess}${c.kubeContext ? ` (context ${c.kubeContext})` : ''}`,
    `  control plane: ${d.controlPlane.join(', ') || 'none'}; workers: ${d.workers.join(', ') || 'none'}`,
    `  release: ${d.release ?? 'none recorded'}`,
    `  maintenance windows: ${d.maintenanceWindows.length ? d.maintenanceWindows.map((w) => `${w.days.join(',')} ${w.start}-${w.end} ${w.timeZone}`).join('; ') : 'none'}`,
  ];
  const parts = [head.join('\n'), '', d.nodes.length ? nodesTable(d.nodes) : 'no nodes'];
  if (d.etcd) parts.push('', printInfo(d.etcd));
  else if (d.etcdError) parts.push('', `etcd: ${d.etcdError}`);
  return parts.join('\n');
}

export function printPlacement(p: Placement): string {
  const lines = [`placement: ${p.nodes.map((n, i) => `${n} (${p.zones[i] || 'no zone'})`).join(', ')}`];
  lines.push(p.note ? `  note: ${p.note}` : `  each control-plane node in its own zone`);
  return lines.join('\n');
}

export function printChange(r: ChangeResult): string {
  const lines = [`plan: ${r.op} on ${r.cluster}: ${r.plan.summary}`, ...r.plan.steps.map((s, i) => `  ${i + 1}. [${s.node}] ${s.action}${s.why ? ` — ${s.why}` : ''}`)];
  if (r.dryRun) lines.push('dry run: nothing changed');
  else if (!r.changed) lines.push('nothing to do');
  else {
    if (r.preflight) lines.push(`preflight passed in ${r.preflight.durationMs} ms (${r.preflight.checks.length} checks)`);
    for (const n of r.notes ?? []) lines.push(`  ${n}`);
    lines.push(`done: ${r.op} on ${r.cluster}`);
  }
  return lines.join('\n');
}
