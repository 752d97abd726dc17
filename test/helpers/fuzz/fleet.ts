// The nodes a fuzz run needs, registered and authorized through the real API the way agents and
// an operator do: the fuzzer's own telemetry nodes, names for it to register, and the good nodes.
import type { FuzzNode, FuzzTargets } from './seeds.ts';

export interface Fleet {
  targets: FuzzTargets;
  good: FuzzNode[];
}

async function addNode(url: string, cluster: string, node: string, joinToken: string, operatorToken: string): Promise<FuzzNode> {
  const reg = await fetch(`${url}/v1/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ cluster, node, joinToken }) });
  if (reg.status !== 202) throw new Error(`register ${node}: ${reg.status} ${await reg.text()}`);
  const { token } = (await reg.json()) as { token: string };
  const auth = await fetch(`${url}/v1/nodes/${cluster}/${node}/authorize`, { method: 'POST', headers: { authorization: `Bearer ${operatorToken}` } });
  if (auth.status !== 200) throw new Error(`authorize ${node}: ${auth.status} ${await auth.text()}`);
  return { node, token };
}

export async function prepareFleet(opts: { url: string; cluster: string; joinToken: string; operatorToken: string; fuzzNodes: number; goodNodes: number }): Promise<Fleet> {
  const add = (node: string) => addNode(opts.url, opts.cluster, node, opts.joinToken, opts.operatorToken);
  const telemetryNodes: FuzzNode[] = [];
  for (let i = 0; i < opts.fuzzNodes; i++) telemetryNodes.push(await add(`fuzz-tel-${i}`));
  const good: FuzzNode[] = [];
  for (let i = 0; i < opts.goodNodes; i++) good.push(await add(`good-${i}`));
  return {
    targets: {
      cluster: opts.cluster,
      joinToken: opts.joinToken,
      operatorToken: opts.operatorToken,
      telemetryNodes,
      registrationNodes: Array.from({ length: 20 }, (_, i) => `fuzz-reg-${i}`),
      seen: { silences: [], maintenance: [] },
    },
    good,
  };
}

/** 127.0.0.2 ... : distinct loopback senders (Linux routes all of 127/8 to lo). */
export function loopbackAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.${Math.floor((i + 2) / 256)}.${(i + 2) % 256}`);
}
