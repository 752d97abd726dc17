// Configuration: defaults, environment overrides, and errors that name every bad field, through the
// loader and through the real `whistle config check` command.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig, parseConfig } from '../../app/config.ts';
import { ConfigError } from '../../core/errors.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'whistle-config-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('every section is strict: an unknown key is an error naming section and key', () => {
    const sections = Object.keys(configSchema.shape).filter((k) => !['dataDir', 'clusters'].includes(k));
    expect(sections).toEqual(expect.arrayContaining(['server', 'store', 'writer', 'kafka', 'kube', 'agent', 'detectors', 'incidents', 'notifications', 'etcd', 'remediation', 'console']));
    for (const section of sections) {
      expect(problems(() => parseConfig({ [section]: { notASetting: 1 } })), section).toContain(`${section}: unknown key "notASetting"`);
    }
    expect(problems(() => parseConfig({ clusters: [{ name: 'c1', joinToken: 'x'.repeat(16), notASetting: 1 }] }))).toContain('clusters.0: unknown key "notASetting"');
    expect(problems(() => parseConfig({ notASection: {} }))).toContain('(root): unknown key "notASection"');
  });

  it('has working defaults: port 8080, embedded chDB under ./data', () => {
    const cfg = parseConfig({});
    expect(cfg.server.port).toBe(8080);
    expect(cfg.store.kind).toBe('chdb');
    expect(cfg.store.path).toBe('data/chdb');
    expect(cfg.writer.spoolDir).toBe('data/spool');
  });

  it('rejects an unknown key (a typo) by name', () => {
    expect(problems(() => parseConfig({ server: { prot: 9090 } }))).toEqual(['server: unknown key "prot"']);
  });

  it('reports every problem at once, each with its path', () => {
    const p = problems(() => parseConfig({ server: { port: 'eighty' }, store: { kind: 'mysql' }, clusters: [{ name: 'bad name!', joinToken: 'short' }] }));
    expect(p).toHaveLength(4);
    expect(p.join('\n')).toMatch(/server\.port: .*number/);
    expect(p.join('\n')).toMatch(/store\.kind: /);
    expect(p.join('\n')).toMatch(/clusters\.0\.name: /);
    expect(p.join('\n')).toMatch(/clusters\.0\.joinToken: /);
  });

  it('applies environment overrides with types, and rejects bad ones by field', () => {
    const cfg = parseConfig({ server: { port: 1 } }, { WHISTLE_SERVER__PORT: '9191', WHISTLE_STORE__RETENTION_DAYS: '3', WHISTLE_DATA_DIR: '/var/lib/w' });
    expect(cfg.server.port).toBe(9191);
    expect(cfg.store.retentionDays).toBe(3);
    expect(cfg.store.path).toBe('/var/lib/w/chdb');
    expect(problems(() => parseConfig({}, { WHISTLE_SERVER__PORT: 'abc' }))).toEqual([expect.stringMatching(/^server\.port: /)]);
  });

  it('names the file on a YAML syntax error or a missing file', () => {
    const bad = file('bad.yaml', 'server:\n  port: [1,\n');
    expect(problems(() => loadConfig(bad, {}))[0]).toMatch(/bad\.yaml: YAML syntax error/);
    expect(problems(() => loadConfig(join(dir, 'missing.yaml'), {}))[0]).toMatch(/missing\.yaml: cannot read \(ENOENT\)/);
  });

  it('`whistle config check` accepts a good file and exits non-zero naming the bad field', async () => {
    const good = file('good.yaml', 'server:\n  port: 9000\nclusters:\n  - name: prod-1\n    joinToken: abcdefghijklmnopqrstuvwxyz\n');
    const ok = await run(process.execPath, ['bin/whistle.js', 'config', 'check', good]);
    expect(ok.stdout).toContain('valid');
    const bad = file('typo.yaml', 'server:\n  port: 9000\nwriter:\n  batchsize: 10\n');
    const err = await run(process.execPath, ['bin/whistle.js', 'config', 'check', bad]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('writer: unknown key "batchsize"');
  });
});
