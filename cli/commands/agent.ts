// `whistle agent`: run only the node agent, reporting to a remote management plane.
import { Command } from 'commander';
import { loadConfig } from '../../app/config.ts';
import { createLogger } from '../../core/log.ts';
import { defaultConfigPath } from './start.ts';
import { runAgentCommand } from '../../agent/run.ts';

export function agentCommand(): Command {
  return new Command('agent')
    .description('run the node agent: collect this machine\'s telemetry and send it to Whistle')
    .option('-c, --config <file>', 'YAML configuration; the `agent` section is used')
    .action(async (opts: { config?: string }) => {
      const cfg = loadConfig(defaultConfigPath(opts.config));
      await runAgentCommand(cfg, createLogger());
    });
}
