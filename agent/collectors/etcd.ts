// The etcd member this node holds, seen through a real etcd client over TLS (bootstrap/etcd/
// telemetry.ts): member health, leadership, DB size and quota, raft index. Reports nothing until
// the node has its client certificate, i.e. until an etcd task set the member up here.
import { existsSync } from 'node:fs';
import { EtcdTelemetry } from '../../bootstrap/etcd/telemetry.ts';
import type { NodeEnv } from '../tasks/node-env.ts';
import { paths } from '../tasks/node-env.ts';
import type { Collector, Point } from './types.ts';

export class EtcdCollector implements Collector {
  readonly name = 'etcd';
  private telemetry: EtcdTelemetry | undefined;

  constructor(
    private readonly env: NodeEnv,
    private readonly clientPort: number,
    private readonly quotaBackendBytes: number,
  ) {}

  async collect(now: number): Promise<Point[]> {
    const f = paths(this.env);
    if (!existsSync(f.clientCert)) return [];
    this.telemetry ??= new EtcdTelemetry({
      cluster: this.env.cluster,
      node: this.env.node,
      endpoint: `https://${this.env.address}:${this.clientPort}`,
      tls: { ca: f.ca, cert: f.clientCert, key: f.key },
      quotaBackendBytes: this.quotaBackendBytes,
    });
    const samples = await this.telemetry.collect(now);
    return samples.map(({ name, value, labels }) => ({ name, value, labels }));
  }
}
