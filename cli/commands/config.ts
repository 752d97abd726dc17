// `whistle config check FILE`: validates a configuration and names every bad field.
import { Command } from 'commander';
import { loadConfig } from '../../app/config.ts';

export function configCommand(): Command {
  const cmd = new Command('config').description('work with configuration files');
  cmd.addCommand(
    new Command('check')
      .description('validate a configuration file (with environment overrides applied)')
      .argument('<file>', 'YAML configuration file')
      .option('--print', 'print the effective configuration (secrets redacted)')
      .action((file: string, opts: { print?: boolean }) => {
        const cfg = loadConfig(file);
        console.log(`${file}: valid`);
        if (opts.print) console.log(JSON.stringify(cfg, (k, v: unknown) => (/token|password|secret/i.test(k) && typeof v === 'string' ? '[redacted]' : v), 2));
      }),
  );
  return cmd;
}
