// `whistle samples --node N [--name M]`: the newest stored samples of a node.
import { Command, InvalidArgumentError } from 'commander';
import { ApiClient, apiFlags } from '../api-client.ts';
import { isoTime, table } from '../table.ts';

interface SampleOut {
  cluster: string;
  node: string;
  name: string;
  ts: number;
  value: number;
  labels: Record<string, string>;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new InvalidArgumentError('must be an integer from 1 to 10000');
  return n;
}

export function samplesCommand(): Command {
  return apiFlags(
    new Command('samples')
      .description('show the newest stored samples of a node')
      .requiredOption('--node <node>', 'node name')
      .option('--name <metric>', 'only this metric')
      .option('--cluster <name>', 'only this cluster')
      .option('--limit <n>', 'how many (1-10000)', positiveInt, 50),
  ).action(async (opts: { server?: string; token?: string; json?: boolean; node: string; name?: string; cluster?: string; limit: number }) => {
    const api = new ApiClient(opts);
    const q = new URLSearchParams({ node: opts.node, limit: String(opts.limit) });
    if (opts.name) q.set('name', opts.name);
    if (opts.cluster) q.set('cluster', opts.cluster);
    const { samples } = await api.get<{ samples: SampleOut[] }>(`/v1/samples?${q}`);
    if (opts.json) return console.log(JSON.stringify(samples, null, 2));
    if (samples.length === 0) return console.log(`no samples for node ${opts.node}${opts.name ? ` and metric ${opts.name}` : ''}`);
    console.log(
      table(
        ['TIME', 'CLUSTER', 'METRIC', 'VALUE', 'LABELS'],
        samples.map((s) => [
          isoTime(s.ts),
          s.cluster,
          s.name,
          Number.isInteger(s.value) ? s.value : s.value.toPrecision(6),
          Object.entries(s.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
        ]),
      ),
    );
  });
}
