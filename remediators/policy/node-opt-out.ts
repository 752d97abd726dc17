// A node opts out of remediation with the label or annotation `whistle.io/remediation: disabled`
// (a person working on it, a node under investigation). Read live from the cluster's API before
// acting: a mark set a second ago counts. A cluster without an API client cannot carry the mark.
import type { KubeApi } from '../../ingest/kube/api-client.ts';

export const OPT_OUT_KEY = 'whistle.io/remediation';
export const OPT_OUT_VALUE = 'disabled';

interface NodeMeta {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** Where the mark is on the node, or null. */
export function optOutMark(node: NodeMeta): string | null {
  if (node.metadata?.labels?.[OPT_OUT_KEY] === OPT_OUT_VALUE) return `label ${OPT_OUT_KEY}=${OPT_OUT_VALUE}`;
  if (node.metadata?.annotations?.[OPT_OUT_KEY] === OPT_OUT_VALUE) return `annotation ${OPT_OUT_KEY}: ${OPT_OUT_VALUE}`;
  return null;
}

export class NodeOptOut {
  constructor(private readonly apis: ReadonlyMap<string, Pick<KubeApi, 'send'>>) {}

  /**
   * Why the node is left alone, or null. A node the API does not know (an agent-only machine) has no
   * mark; a node that cannot be read is left alone, since its mark cannot be ruled out.
   */
  async check(cluster: string, node: string): Promise<string | null> {
    const api = this.apis.get(cluster);
    if (!api) return null;
    try {
      const res = await api.send<NodeMeta>('GET', `/api/v1/nodes/${encodeURIComponent(node)}`);
      if (res.ok) {
        const mark = optOutMark(res.value);
        return mark ? `has the ${mark}` : null;
      }
      if (res.status === 404) return null;
      return `its ${OPT_OUT_KEY} mark could not be read: ${res.status} ${res.error.message ?? ''}`;
    } catch (err) {
      return `its ${OPT_OUT_KEY} mark could not be read: ${(err as Error).message}`;
    }
  }
}
