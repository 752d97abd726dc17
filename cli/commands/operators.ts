// `whistle operators`: who may sign in to the console with a name and password. `add`, `passwd`
// and `remove` need an operator token (an admin); the password is read from stdin (one line),
// never from the command line, where `ps` would show it.
import { Command } from 'commander';
import { ApiClient, apiFlags } from '../api-client.ts';
import { ago, table } from '../table.ts';

interface OperatorOut {
  name: string;
  updatedAt: number;
  updatedBy: string;
}

type Opts = { server?: string; token?: string; json?: boolean };

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password (at least 12 characters): ');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split('\n')[0]!.replace(/\r$/, '');
}

export function operatorsCommand(): Command {
  const cmd = apiFlags(new Command('operators').description('console operators who sign in with a name and password')).action(async (opts: Opts) => {
    const { operators } = await new ApiClient(opts).get<{ operators: OperatorOut[] }>('/v1/operators');
    if (opts.json) return console.log(JSON.stringify(operators, null, 2));
    if (operators.length === 0) return console.log('no console operators (sign in with an operator token, or add one: whistle operators add NAME)');
    console.log(table(['NAME', 'CHANGED', 'BY'], operators.map((o) => [o.name, ago(o.updatedAt), o.updatedBy])));
  });
  const sub = (name: string, description: string, run: (api: ApiClient, operator: string, opts: Opts) => Promise<string>) =>
    cmd.addCommand(
      apiFlags(new Command(name).description(description).argument('<name>', 'operator name')).action(async (operator: string, _o: unknown, c: Command) => {
        const opts = c.optsWithGlobals<Opts>();
        console.log(await run(new ApiClient(opts), operator, opts));
      }),
    );
  sub('add', 'add an operator; the password is read from stdin', async (api, name, opts) => {
    const r = await api.post<{ operator: OperatorOut }>('/v1/operators', { name, password: await readPassword() });
    return opts.json ? JSON.stringify(r.operator, null, 2) : `added ${r.operator.name}`;
  });
  sub('passwd', "set an operator's password (read from stdin); their sessions end", async (api, name, opts) => {
    const r = await api.post<{ operator: OperatorOut }>(`/v1/operators/${encodeURIComponent(name)}/password`, { password: await readPassword() });
    return opts.json ? JSON.stringify(r.operator, null, 2) : `new password for ${r.operator.name}; their sessions ended`;
  });
  sub('remove', 'remove an operator; their sessions end', async (api, name, opts) => {
    const r = await api.delete<{ operator: OperatorOut }>(`/v1/operators/${encodeURIComponent(name)}`);
    return opts.json ? JSON.stringify(r.operator, null, 2) : `removed ${r.operator.name}`;
  });
  return cmd;
}
