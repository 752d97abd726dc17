// node.upgrade-install through the agent's own task runner (allow-list, strict parameters, timeout)
// with real commands: the package command writes the version it is given, the version command
// reads it back, a service restart runs its configured command. A version that could carry a
// shell word is refused before anything runs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ComponentVersionsCollector } from '../../agent/collectors/component-versions.ts';
import { parseVersion } from '../../agent/tasks/component-versions.ts';
import type { NodeEnv } from '../../agent/tasks/node-env.ts';
import { TaskRunner } from '../../agent/tasks/runner.ts';
import { parseConfig } from '../../app/config.ts';

let dir: string;
let env: NodeEnv;
const task = (params: unknown) => ({ id: `t-${Math.random()}`, cluster: 'c1', node: 'n1', kind: 'node.upgrade-install', params: params as Record<string, unknown>, createdAt: Date.now() });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'whistle-upgrade-install-'));
  const kubelet = join(dir, 'kubelet.version');
  await writeFile(kubelet, 'Kubernetes v1.33.5\n');
  const cfg = parseConfig({
    agent: {
      stateDir: join(dir, 'agent'),
      tasks: {
        enabled: true,
        services: [{ unit: 'kubelet', restart: ['sh', '-c', `echo restarted >> ${join(dir, 'restarts')}`] }],
        packages: [
          { name: 'kubelet', install: ['sh', '-c', 'printf "Kubernetes v%s\\n" "$1" > "$0"', kubelet, '{version}'], version: ['cat', kubelet], restart: ['kubelet'] },
          // No version command: the version is the one this agent last installed.
          { name: 'cni', install: ['sh', '-c', 'test "$0" != 9.9.9 || { echo "no such version" >&2; exit 3; }', '{version}'] },
        ],
      },
    },
  }).agent;
  env = { cluster: 'c1', node: 'n1', address: '127.0.0.1', dataRoot: join(dir, 'node'), backupDir: join(dir, 'b'), services: cfg.tasks.services, packages: cfg.tasks.packages };
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('node.upgrade-install', () => {
  it('installs what differs, restarts the units of what changed, reads the versions back', async () => {
    const runner = new TaskRunner({ env, timeoutMs: 10_000 });
    const r = await runner.run(task({ release: 'r2', components: { kubelet: '1.34.4', cni: '1.6.0', coredns: '1.12.0' } }));
    expect(r.error).toBeUndefined();
    expect(r.output).toMatchObject({
      release: 'r2',
      components: [
        { component: 'kubelet', before: '1.33.5', after: '1.34.4', skipped: false },
        { component: 'cni', before: null, after: '1.6.0', skipped: false },
        { component: 'coredns', notManaged: true, skipped: true },
      ],
      restarted: [{ unit: 'kubelet', probeOk: null }],
      versions: { kubelet: '1.34.4', cni: '1.6.0' },
    });
    expect(await readFile(join(dir, 'restarts'), 'utf8')).toBe('restarted\n');
    // The collector reports what the install read back.
    const points = await new ComponentVersionsCollector(env.packages!, env.dataRoot).collect();
    expect(points.map((p) => [p.labels.component, p.labels.version, p.value])).toEqual([['kubelet', '1.34.4', 1], ['cni', '1.6.0', 1]]);
  });

  it('runs nothing when the node is already there (a resumed rollout asks again)', async () => {
    const r = await new TaskRunner({ env, timeoutMs: 10_000 }).run(task({ release: 'r2', components: { kubelet: '1.34.4' } }));
    expect(r.output).toMatchObject({ components: [{ component: 'kubelet', skipped: true }], restarted: [] });
    expect(await readFile(join(dir, 'restarts'), 'utf8')).toBe('restarted\n');
  });

  it('fails naming the component and what its package command said', async () => {
    const r = await new TaskRunner({ env, timeoutMs: 10_000 }).run(task({ release: 'r3', components: { cni: '9.9.9' } }));
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/^cni 9\.9\.9: install command .* exited with code 3: no such version$/);
  });

  it('refuses a version that is not a version before running anything', async () => {
    const r = await new TaskRunner({ env, timeoutMs: 10_000 }).run(task({ release: 'r2', components: { kubelet: '1.0; rm -rf /' } }));
    expect(r).toMatchObject({ ok: false, error: expect.stringMatching(/^node\.upgrade-install: params\.components\.kubelet: must be a version/) });
  });

  it('parses versions out of what version commands print', () => {
    expect(parseVersion('Kubernetes v1.34.4\n', undefined)).toBe('1.34.4');
    expect(parseVersion('containerd github.com/containerd/containerd/v2 v2.1.4 75cb2b7', 'containerd \\S+ v?(\\S+)')).toBe('2.1.4');
    expect(parseVersion('no digits here', undefined)).toBeNull();
  });

  it('config: a restart unit must be a configured service, a package command must take {version}', () => {
    expect(() => parseConfig({ agent: { tasks: { packages: [{ name: 'kubelet', install: ['apt-get', 'install', 'kubelet'], restart: ['kubelet'] }] } } })).toThrow(
      /agent\.tasks\.packages\.0\.install: must contain \{version\}[\s\S]*agent\.tasks\.packages\.0\.restart\.0: "kubelet" is not in agent\.tasks\.services/,
    );
  });
});
