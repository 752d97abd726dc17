// The CLI against a plane serving HTTPS from its fleet CA: it trusts the CA it is given (--ca or
// WHISTLE_CA) for that one call, refuses a server whose certificate it cannot verify with a message
// that says what to do, and names a CA file it cannot read.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../harness/ports.ts';
import { OPERATOR_TOKEN, startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const run = promisify(execFile);
const bin = resolve('bin/whistle.js');
const dir = mkdtempSync(join(tmpdir(), 'whistle-https-cli-'));
let plane: TestWhistle | undefined;
let server = '';

beforeAll(async () => {
  const port = await freePort();
  plane = await startTestWhistle({ server: { port, tls: { enabled: true } } }, { dir });
  server = `https://127.0.0.1:${port}`;
});
afterAll(async () => {
  await plane?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// An empty data dir, so nothing is picked up from ./data: each case says where its CA comes from.
const cli = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [bin, ...args, '--server', server, '--token', OPERATOR_TOKEN], { cwd: dir, env: { ...process.env, WHISTLE_DATA_DIR: join(dir, 'none'), ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('CLI over HTTPS', { timeout: 120_000 }, () => {
  it('trusts the plane through --ca and through WHISTLE_CA', async () => {
    const caFile = join(plane!.dir, 'fleet-ca', 'ca.crt');
    const viaFlag = await cli(['nodes', '--json', '--ca', caFile]);
    expect(viaFlag.stderr).toBe('');
    expect(viaFlag.code).toBe(0);
    expect(JSON.parse(viaFlag.stdout)).toEqual([]);
    const viaEnv = await cli(['nodes', '--json'], { WHISTLE_CA: caFile });
    expect(viaEnv.code).toBe(0);
  });

  it('without the CA: refused, saying how to give it', async () => {
    const r = await cli(['nodes']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/certificate is not issued by a CA this CLI trusts: give the plane's CA with --ca FILE/);
  });

  it('a CA file that cannot be read is named', async () => {
    const r = await cli(['nodes', '--ca', join(dir, 'missing.pem')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`--ca ${join(dir, 'missing.pem')}: cannot read it (ENOENT)`);
  });
});
