// Runs `runAgentCommand` in its own process (as `whistle agent` does) for run.test.ts: argv[2] is the
// whole config as JSON. Prints a marker once the command returned after a signal.
import { parseConfig } from '../../app/config.ts';
import { createLogger } from '../../core/log.ts';
import { runAgentCommand } from '../../agent/run.ts';

const cfg = parseConfig(JSON.parse(process.argv[2] ?? '{}'));
await runAgentCommand(cfg, createLogger('info'));
console.log('AGENT-COMMAND-RETURNED');
