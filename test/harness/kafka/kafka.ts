// A real Kafka broker (3.9, KRaft: broker and controller in one JVM) on loopback for tests, from
// the jars test/harness/kafka/fetch.sh put in ~/.cache/whistle/kafka-<version>/lib. Small heap and
// few threads: the machine is shared. stop()/start() keep the data directory and ports, so a test
// can take the broker away mid-stream and bring the same broker back.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { freePort } from '../ports.ts';

export const KAFKA_VERSION = '3.9.0';
export const KAFKA_LIB = process.env.WHISTLE_KAFKA_LIB ?? join(process.env.WHISTLE_CACHE ?? join(homedir(), '.cache', 'whistle'), `kafka-${KAFKA_VERSION}`, 'lib');

export interface KafkaBroker {
  /** `127.0.0.1:<port>`, for kafkajs `brokers`. */
  brokers: string[];
  dir: string;
  /** Kills the broker (SIGTERM, then SIGKILL after a grace period); data and ports are kept. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it answers describeCluster. */
  start(): Promise<void>;
  /** stop() and remove the data directory. */
  destroy(): Promise<void>;
  /** The broker's own log (server.log), for a failing test's message. */
  logTail(lines?: number): string;
}

export interface KafkaOptions {
  heapMb?: number;
  /** Extra server.properties lines (key=value). */
  properties?: Record<string, string | number | boolean>;
  startTimeoutMs?: number;
}

function java(): string {
  const home = process.env.JAVA_HOME;
  return home && existsSync(join(home, 'bin', 'java')) ? join(home, 'bin', 'java') : 'java';
}

async function waitReady(brokers: string[], timeoutMs: number, exited: Promise<never>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const admin = new Kafka({ clientId: 'whistle-harness', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 }, connectionTimeout: 1000 }).admin();
    try {
      await Promise.race([
        (async () => {
          await admin.connect();
          const { brokers: live } = await admin.describeCluster();
          if (live.length === 0) throw new Error('no live brokers yet');
        })(),
        exited,
      ]);
      return;
    } catch (err) {
      last = err;
      if ((err as Error).message.startsWith('kafka exited')) throw err;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`kafka did not answer on ${brokers.join(',')} within ${timeoutMs} ms: ${(last as Error)?.message ?? 'no answer'}`);
}

export async function startKafka(opts: KafkaOptions = {}): Promise<KafkaBroker> {
  if (!existsSync(KAFKA_LIB) || !readdirSync(KAFKA_LIB).some((f) => f.startsWith('kafka_2.13-'))) {
    throw new Error(`Kafka jars not found in ${KAFKA_LIB}: run bash test/harness/kafka/fetch.sh (test/setup.sh does)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'whistle-kafka-'));
  const [port, controllerPort] = [await freePort(), await freePort()];
  const brokers = [`127.0.0.1:${port}`];
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(dir, 'data'),
    'num.partitions': 1,
    'auto.create.topics.enable': false,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 4,
    'group.initial.rebalance.delay.ms': 0,
    // A shared 2-core machine: few threads, and no log cleaner (its dedupe buffer alone is 128 MB).
    'num.network.threads': 2,
    'num.io.threads': 2,
    'background.threads': 2,
    'num.recovery.threads.per.data.dir': 1,
    'log.cleaner.enable': false,
    ...opts.properties,
  };
  const propsFile = join(dir, 'server.properties');
  writeFileSync(propsFile, Object.entries(props).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const log4j = join(dir, 'log4j.properties');
  writeFileSync(
    log4j,
    [
      'log4j.rootLogger=WARN, file',
      'log4j.appender.file=org.apache.log4j.FileAppender',
      `log4j.appender.file.File=${join(dir, 'logs', 'server.log')}`,
      'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
      'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
      'log4j.logger.kafka.server.KafkaServer=INFO',
      'log4j.logger.kafka.server.BrokerServer=INFO',
    ].join('\n') + '\n',
  );
  const jvm = [
    `-Xmx${opts.heapMb ?? 512}m`,
    '-Xms64m',
    // Serial GC and C1 only: less CPU and memory on a shared machine; plenty for a test broker.
    '-XX:+UseSerialGC',
    '-XX:TieredStopAtLevel=1',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4j}`,
    `-Dkafka.logs.dir=${join(dir, 'logs')}`,
    '-cp',
    join(KAFKA_LIB, '*'),
  ];

  const clusterId = spawnSync(java(), [...jvm, 'kafka.tools.StorageTool', 'random-uuid'], { encoding: 'utf8' });
  if (clusterId.status !== 0) throw new Error(`kafka StorageTool random-uuid failed: ${clusterId.stderr}`);
  const format = spawnSync(java(), [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId.stdout.trim(), '-c', propsFile], { encoding: 'utf8' });
  if (format.status !== 0) throw new Error(`kafka StorageTool format failed: ${format.stderr || format.stdout}`);

  let proc: ChildProcess | null = null;
  const logTail = (lines = 40): string => {
    const r = spawnSync('tail', ['-n', String(lines), join(dir, 'logs', 'server.log')], { encoding: 'utf8' });
    return r.stdout ?? '';
  };

  const broker: KafkaBroker = {
    brokers,
    dir,
    logTail,
    async start() {
      if (proc) return;
      const p = spawn(java(), [...jvm, 'kafka.Kafka', propsFile], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      proc = p;
      let stderr = '';
      p.stderr!.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-4000);
      });
      const exited = new Promise<never>((_, reject) =>
        p.once('exit', (code) => {
          if (proc === p) proc = null;
          reject(new Error(`kafka exited with ${code}: ${stderr}\n${logTail()}`));
        }),
      );
      exited.catch(() => {});
      await waitReady(brokers, opts.startTimeoutMs ?? 90_000, exited);
    },
    async stop() {
      const p = proc;
      if (!p) return;
      proc = null;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const gone = new Promise((r) => p.once('exit', r));
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-p.pid!, sig);
        } catch {
          /* already gone */
        }
      };
      kill('SIGTERM');
      const t = setTimeout(() => kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    },
    async destroy() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    },
  };
  try {
    await broker.start();
  } catch (err) {
    await broker.destroy();
    throw err;
  }
  return broker;
}
