// Where a cluster's control plane goes: `count` pool nodes in as many distinct zones as the pool
// has, so the cluster survives the loss of a node or of a zone. Pure: the caller hands the
// candidates (authorized pool nodes in no cluster) and prints the note when the spread falls short.
export interface Candidate {
  node: string;
  /** '' when the node reports none. */
  zone: string;
}

export interface Placement {
  nodes: string[];
  zones: string[];
  /** Every chosen node is in its own zone. */
  spread: boolean;
  /** Why the spread falls short, in words for the operator; null when it does not. */
  note: string | null;
}

/**
 * Round-robin over the zones (largest first, then by name), so each zone gets one node before any
 * gets a second; nodes without a zone count as one unknown zone. Deterministic: the same pool gives
 * the same answer. Throws when the pool has fewer than `count` candidates.
 */
export function placeControlPlane(candidates: readonly Candidate[], count: number): Placement {
  if (candidates.length < count) {
    throw new RangeError(`the pool has ${candidates.length} authorized node(s) in no cluster, ${count} wanted`);
  }
  const byZone = new Map<string, string[]>();
  for (const c of [...candidates].sort((a, b) => a.node.localeCompare(b.node))) byZone.set(c.zone, [...(byZone.get(c.zone) ?? []), c.node]);
  const zones = [...byZone.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  const chosen: { node: string; zone: string }[] = [];
  for (let round = 0; chosen.length < count; round++) {
    for (const [zone, nodes] of zones) {
      if (chosen.length >= count) break;
      const n = nodes[round];
      if (n) chosen.push({ node: n, zone });
    }
  }
  const distinct = [...new Set(chosen.map((c) => c.zone))];
  const unknown = chosen.filter((c) => c.zone === '').length;
  const spread = distinct.length === count && unknown === 0;
  let note: string | null = null;
  if (!spread) {
    const known = distinct.filter((z) => z !== '');
    note =
      `${count} control-plane nodes but only ${known.length} known zone(s) among the pool's nodes` +
      (known.length ? ` (${known.join(', ')})` : '') +
      (unknown ? `; ${unknown} chosen node(s) report no zone` : '') +
      ': losing one zone may cost more than one member';
  }
  return { nodes: chosen.map((c) => c.node), zones: chosen.map((c) => c.zone), spread, note };
}
