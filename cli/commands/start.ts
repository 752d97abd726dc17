// `whistle start`: the management plane, and (unless disabled) an agent for this machine, on the
// embedded defaults: chDB under ./data, generated tokens, the local agent authorized automatically.
import { existsSync } from 'node:fs';
import { defaultNodeName } from '../../agent/identity.ts';
import { Command } from 'commander';
import { loadConfig, type WhistleConfig } from '../../app/config.ts';
import type { Component } from '../../core/component.ts';
import { createLogger } from '../../core/log.ts';
import { Whistle } from '../../app/whistle.ts';
import { ingestServices } from '../../ingest/services.ts';
import { planeCaCertHash } from '../../bootstrap/pki/plane-tls.ts';
import { localSecrets, recordCaCertHash } from '../local-secrets.ts';
import { createNodeAgent } from '../../agent/node-agent.ts';

/** Fills what the embedded defaults leave open: a local cluster and an operator token. */
export function withLocalDefaults(cfg: WhistleConfig): WhistleConfig {
  const secrets = localSecrets(cfg.dataDir);
  const clusters = cfg.clusters.length > 0 ? cfg.clusters : [{ name: cfg.agent.cluster, joinToken: secrets.joinToken }];
  const operatorTokens = cfg.server.operatorTokens.length > 0 ? cfg.server.operatorTokens : [{ name: 'local-operator', token: secrets.operatorToken }];
  const agentJoin = cfg.agent.joinToken ?? clusters.find((c) => c.name === cfg.agent.cluster)?.joinToken;
  return { ...cfg, clusters, server: { ...cfg.server, operatorTokens }, agent: { ...cfg.agent, joinToken: agentJoin, node: cfg.agent.node ?? defaultNodeName() } };
}

export function defaultConfigPath(explicit?: string): string | undefined {
  if (explicit) return explicit;
  if (process.env.WHISTLE_CONFIG) return process.env.WHISTLE_CONFIG;
  return existsSync('whistle.yaml') ? 'whistle.yaml' : undefined;
}

export function startCommand(): Command {
  return new Command('start')
    .description('run the management plane (API, writer, detectors, incidents) and an agent for this machine')
    .option('-c, --config <file>', 'YAML configuration (default: ./whistle.yaml if present, env WHISTLE_CONFIG)')
    .option('--no-agent', 'do not run the local node agent')
    .action(async (opts: { config?: string; agent: boolean }) => {
      const log = createLogger();
      const cfg = withLocalDefaults(loadConfig(defaultConfigPath(opts.config)));
      const whistle = await Whistle.create(cfg, { logger: log });
      const agentCfg = cfg.agent;
      whistle.service(ingestServices.nodes).autoAuthorize = (cluster, node) =>
        opts.agent && agentCfg.enabled && cluster === agentCfg.cluster && node === agentCfg.node ? 'whistle start (local agent)' : undefined;
      const url = await whistle.start();
      const caCertHash = await planeCaCertHash(cfg.server);
      recordCaCertHash(cfg.dataDir, caCertHash);
      let agent: Component | undefined;
      if (opts.agent && agentCfg.enabled) {
        const addr = whistle.server.server.address();
        const port = typeof addr === 'object' && addr ? addr.port : cfg.server.port;
        const server = `${caCertHash ? 'https' : 'http'}://127.0.0.1:${port}`;
        const started = createNodeAgent({ ...agentCfg, server, ...(caCertHash && { caCertHash }) }, { logger: log.child({ component: 'agent' }) });
        await started.start();
        agent = started;
      }
      console.log(`Whistle is running at ${url} (store: ${cfg.store.kind}${cfg.store.kind === 'chdb' ? ` in ${cfg.store.path}` : ''}).`);
      if (caCertHash) console.log(`Agents pin this plane's CA with agent.caCertHash: ${caCertHash} (also in ${cfg.dataDir}/ca-cert-hash; whistle join-command prints an agent's whole section).`);
      console.log(`Try: npx whistle nodes    npx whistle samples --node ${agentCfg.node} --name node_load1`);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'stopping');
        await agent?.stop();
        await whistle.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}
