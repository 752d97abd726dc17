// remediation.addonRestart refused at start: the loader and the real `whistle config check` name the
// bad field (an unknown kind, an empty namespace, an unknown method, a duplicate add-on).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config.ts';
import { ConfigError } from '../../core/errors.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'whistle-addon-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problems(addons: unknown): string[] {
  try {
    parseConfig({ remediation: { addonRestart: { addons } } });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('remediation.addonRestart config', () => {
  it('takes add-ons by kind, namespace and name, with a method', () => {
    const cfg = parseConfig({ remediation: { addonRestart: { addons: [{ kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy', method: 'delete-crashlooping' }] } } });
    expect((cfg.remediation as Record<string, unknown>).addonRestart).toMatchObject({ enabled: true, addons: [{ kind: 'DaemonSet', namespace: 'kube-system', name: 'kube-proxy', method: 'delete-crashlooping', dns: false }] });
  });

  it('refuses an unknown kind, an empty namespace, an unknown method and a duplicate, naming the field', () => {
    expect(problems([{ kind: 'StatefulSet', namespace: 'kube-system', name: 'x' }])).toEqual([expect.stringMatching(/^remediation\.addonRestart\.addons\.0\.kind: .*Deployment.*DaemonSet/)]);
    expect(problems([{ kind: 'Deployment', namespace: '', name: 'coredns' }])).toEqual(['remediation.addonRestart.addons.0.namespace: must not be empty']);
    expect(problems([{ kind: 'Deployment', namespace: 'kube-system', name: 'coredns', method: 'reboot' }])).toEqual([expect.stringMatching(/^remediation\.addonRestart\.addons\.0\.method: /)]);
    const twice = { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' };
    expect(problems([twice, twice])).toEqual(['remediation.addonRestart.addons.1: kube-system/Deployment/coredns is listed twice']);
  });

  it('`whistle config check` exits 2 naming the field', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'remediation:\n  addonRestart:\n    addons:\n      - { kind: Pod, namespace: kube-system, name: coredns }\n');
    const err = await run(process.execPath, ['bin/whistle.js', 'config', 'check', bad]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain('remediation.addonRestart.addons.0.kind');
  });
});
