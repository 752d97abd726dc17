// The `whistle` command line. Each subcommand is a small module under cli/commands; errors are
// printed as one clear line (a config error lists every bad field) and exit non-zero.
import { Command, CommanderError } from 'commander';
import { WhistleError } from '../core/errors.ts';
import { ApiError } from './api-client.ts';
import { agentCommand } from './commands/agent.ts';
import { configCommand } from './commands/config.ts';
import { joinCommand } from './commands/join-command.ts';
import { nodesCommand } from './commands/nodes.ts';
import { remediationCommand } from './commands/remediation.ts';
import { samplesCommand } from './commands/samples.ts';
import { startCommand } from './commands/start.ts';
import { extraCommands } from './extra-commands.ts';

export function program(): Command {
  const p = new Command('whistle')
    .description('Whistle: monitoring and auto-remediation for fleets of managed Kubernetes clusters')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const c of [startCommand(), agentCommand(), joinCommand(), configCommand(), nodesCommand(), samplesCommand(), remediationCommand(), ...extraCommands()]) p.addCommand(c);
  return p;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) process.exit(err.exitCode);
    if (err instanceof WhistleError || err instanceof ApiError) {
      console.error(`whistle: ${err.message}`);
      process.exit(err instanceof WhistleError && err.code === 'WHISTLE_CONFIG_INVALID' ? 2 : 1);
    }
    console.error(`whistle: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  }
}
