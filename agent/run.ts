// `whistle agent`: run the node agent in the foreground until SIGINT or SIGTERM, then stop it cleanly
// (the tick in progress reaches the spool, the request in flight finishes) and return.
import type { ClusterConfig } from '../core/config/schema.ts';
import type { AgentConfig } from './config.ts';
import type { Logger } from '../core/log.ts';
import { createNodeAgent } from './node-agent.ts';

export async function runAgentCommand(cfg: { agent: AgentConfig; clusters: ClusterConfig[] }, logger: Logger): Promise<void> {
  // On one machine the agent's join token is usually the cluster's own; don't make people repeat it.
  const joinToken = cfg.agent.joinToken ?? cfg.clusters.find((c) => c.name === cfg.agent.cluster)?.joinToken;
  if (!joinToken) logger.warn({ cluster: cfg.agent.cluster }, 'agent.joinToken is not set: the agent can only use a node token stored by an earlier run');
  const agent = createNodeAgent({ ...cfg.agent, joinToken }, { logger: logger.child({ component: 'agent' }) });
  await agent.start();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  logger.info({ signal }, 'stopping the node agent');
  await agent.stop();
}
