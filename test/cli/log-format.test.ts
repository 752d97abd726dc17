// What a person reads at a terminal: `whistle start` and `whistle agent`, the real executable, print
// pino-pretty lines ("[12:00:00.000] INFO: message {fields}") when stdout is a terminal and one JSON
// object per line otherwise. The terminal is a real pseudo-terminal: util-linux `script` runs the
// command on one and copies what it prints to our pipe.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/ports.ts';

const bin = resolve('bin/whistle.js');
const dir = mkdtempSync(join(tmpdir(), 'whistle-logs-'));
// util-linux `script` (Debian's bsdutils, an Essential package) gives the CLI a real pseudo-terminal;
// without it the test fails saying so rather than skipping.
if (spawnSync('script', ['--version']).status !== 0) throw new Error('this test needs util-linux `script` (Debian package bsdutils)');

afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }));

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
// eslint-disable-next-line no-control-regex
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');

/**
 * Runs the CLI (on a pseudo-terminal when `tty`) until its output holds `until`, then stops it with
 * SIGTERM (the whole process group: `script` and the CLI under it) and returns what it printed.
 */
async function run(args: string[], opts: { tty: boolean; until: RegExp; env?: Record<string, string> }): Promise<string> {
  const env = { ...process.env, ...opts.env };
  delete env.WHISTLE_LOG_FORMAT;
  const cmd = [process.execPath, bin, ...args].map(quote).join(' ');
  const child = opts.tty
    ? spawn('script', ['-q', '-e', '-c', cmd, '/dev/null'], { cwd: dir, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, [bin, ...args], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    await new Promise<void>((resolveSeen, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${opts.until} within 90 s; printed:\n${out}`)), 90_000);
      const hear = (chunk: Buffer) => {
        out += chunk.toString('utf8');
        if (opts.until.test(plain(out))) {
          clearTimeout(timer);
          resolveSeen();
        }
      };
      child.stdout!.on('data', hear);
      child.stderr!.on('data', hear);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited (${code}) before ${opts.until}; printed:\n${out}`));
      });
    });
  } finally {
    if (child.exitCode === null && child.pid) process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
  return plain(out);
}

const PRETTY = /^\[\d{2}:\d{2}:\d{2}\.\d{3}\] (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): \S/;

function logLines(out: string): string[] {
  return out.split('\n').filter((l) => PRETTY.test(l) || l.startsWith('{'));
}

describe('log format of the CLI', () => {
  let port = 0;
  const config = async () => {
    port = await freePort();
    const file = join(dir, 'whistle.yaml');
    writeFileSync(file, `dataDir: ${join(dir, 'data')}\nserver: { port: ${port} }\nagent: { server: "http://127.0.0.1:${port}", cluster: local, joinToken: "join-token-for-log-format-test", stateDir: ${join(dir, 'agent')} }\n`);
    return file;
  };

  it('whistle start on a terminal: readable lines, no JSON', async () => {
    const out = await run(['start', '--no-agent', '-c', await config()], { tty: true, until: /Whistle is running at/ });
    const lines = logLines(out);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => PRETTY.test(l))).toBe(true);
  });

  it('whistle start into a pipe: one JSON object per line', async () => {
    const out = await run(['start', '--no-agent', '-c', await config()], { tty: false, until: /Whistle is running at/ });
    const lines = logLines(out);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(JSON.parse(l)).toMatchObject({ level: expect.any(Number), time: expect.any(Number), msg: expect.any(String) });
  });

  it('whistle agent on a terminal and into a pipe', async () => {
    const file = await config();
    const tty = await run(['agent', '-c', file], { tty: true, until: /node agent started/ });
    const started = logLines(tty).find((l) => l.includes('node agent started'));
    expect(started).toMatch(PRETTY);
    expect(started).toMatch(/^\[[\d:.]+\] INFO: node agent started \{.*"cluster":"local"/);

    const piped = await run(['agent', '-c', file], { tty: false, until: /node agent started/ });
    const json = logLines(piped).map((l) => JSON.parse(l) as { msg: string; level: number; cluster?: string });
    expect(json.find((l) => l.msg === 'node agent started')).toMatchObject({ level: 30, cluster: 'local' });
  });
});
