// `whistle join-command`: what a new node's agent needs to join, as the `agent:` section of its
// config: the plane's address, the cluster and its join token, and the hash of the plane's CA that
// the agent pins before it sends anything (kubeadm's `kubeadm token create --print-join-command`).
import { hostname } from 'node:os';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { loadConfig, type WhistleConfig } from '../../app/config.ts';
import { planeCaCertHash } from '../../bootstrap/pki/plane-tls.ts';
import { InputError } from '../../core/errors.ts';
import { defaultConfigPath, withLocalDefaults } from './start.ts';

/** The address agents dial: server.publicUrl, else server.host (this machine's name when bound to every address). */
export function planeUrl(cfg: WhistleConfig): string {
  if (cfg.server.publicUrl) return cfg.server.publicUrl.replace(/\/$/, '');
  const { host, port } = cfg.server;
  const name = host === '0.0.0.0' || host === '::' ? hostname() : host.includes(':') ? `[${host}]` : host;
  return `${cfg.server.tls.enabled ? 'https' : 'http'}://${name}:${port}`;
}

export async function joinSection(cfg: WhistleConfig, cluster: string, server?: string): Promise<Record<string, string>> {
  const joinToken = cfg.clusters.find((c) => c.name === cluster)?.joinToken;
  if (!joinToken) throw new InputError(`no cluster "${cluster}" in clusters[] (known: ${cfg.clusters.map((c) => c.name).join(', ') || 'none'})`);
  const caCertHash = await planeCaCertHash(cfg.server);
  return { server: server ?? planeUrl(cfg), cluster, joinToken, ...(caCertHash && { caCertHash }) };
}

export function joinCommand(): Command {
  return new Command('join-command')
    .description("print the `agent:` config section a new node needs to join a cluster (server, join token, the plane's CA hash)")
    .option('-c, --config <file>', 'the management plane\'s YAML configuration (default: ./whistle.yaml if present, env WHISTLE_CONFIG)')
    .option('--cluster <name>', 'the cluster the node joins (default: agent.cluster)')
    .option('--server <url>', 'the address agents dial, when not server.publicUrl or server.host')
    .action(async (opts: { config?: string; cluster?: string; server?: string }) => {
      const cfg = withLocalDefaults(loadConfig(defaultConfigPath(opts.config)));
      const agent = await joinSection(cfg, opts.cluster ?? cfg.agent.cluster, opts.server);
      if (!agent.caCertHash) console.log('# plain HTTP (server.tls.enabled is false): only an agent on this machine can join.');
      console.log('# keep the join token secret; the CA hash is public.');
      process.stdout.write(stringify({ agent }));
    });
}
