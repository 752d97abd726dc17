// A real ClickHouse server process (Debian's clickhouse-server) on loopback, with its own data
// directory, a password-protected user, and stop/start so tests can take the store away mid-stream.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export const CLICKHOUSE_SERVER_BIN = process.env.CLICKHOUSE_SERVER_BIN ?? '/usr/sbin/clickhouse-server';

export interface ClickHouseServer {
  url: string;
  username: string;
  password: string;
  dir: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

async function waitHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`clickhouse-server did not answer on ${url} within ${timeoutMs} ms`);
}

export async function startClickHouseServer(): Promise<ClickHouseServer> {
  if (!existsSync(CLICKHOUSE_SERVER_BIN)) {
    throw new Error(`${CLICKHOUSE_SERVER_BIN} not found: install Debian's clickhouse-server (apt-get install clickhouse-server), as .ci/run does`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'whistle-ch-'));
  for (const d of ['data', 'tmp', 'logs', 'user_files', 'format_schemas']) mkdirSync(join(dir, d), { recursive: true });
  const [httpPort, tcpPort, interPort] = [await freePort(), await freePort(), await freePort()];
  const username = 'whistle';
  const password = 'ch-test-password-123';
  writeFileSync(
    join(dir, 'config.xml'),
    `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/logs/server.log</log><errorlog>${dir}/logs/error.log</errorlog><console>0</console></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <interserver_http_port>${interPort}</interserver_http_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>536870912</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
</yandex>
`,
  );
  writeFileSync(
    join(dir, 'users.xml'),
    `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users>
    <${username}><password>${password}</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></${username}>
  </users>
  <quotas><default></default></quotas>
</yandex>
`,
  );
  const url = `http://127.0.0.1:${httpPort}`;
  let proc: ChildProcess | null = null;

  const server: ClickHouseServer = {
    url,
    username,
    password,
    dir,
    async start() {
      if (proc) return;
      proc = spawn(CLICKHOUSE_SERVER_BIN, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: 'ignore', detached: true });
      const exited = new Promise<never>((_, reject) => proc!.once('exit', (code) => reject(new Error(`clickhouse-server exited with ${code}; see ${dir}/logs`))));
      await Promise.race([waitHttp(url, 30_000), exited]);
    },
    async stop() {
      const p = proc;
      if (!p) return;
      proc = null;
      const gone = new Promise((r) => p.once('exit', r));
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      await gone;
    },
    async destroy() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
  await server.start();
  return server;
}
