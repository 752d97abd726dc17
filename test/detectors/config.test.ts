// The detectors config section and detector loading: defaults, unknown keys, bad values and bad
// plugin modules each give a message naming the config path; nothing starts half-configured.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../app/config.ts';
import { ConfigError } from '../../core/errors.ts';
import { detectorsSchema } from '../../detectors/config.ts';
import { importDetectorModules, resolveDetectors } from '../../detectors/loader.ts';

const plugin = fileURLToPath(new URL('./fixtures/plugin-detector.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'whistle-detector-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 }));

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('detectors config', () => {
  it('has defaults for everything, every built-in enabled', () => {
    const cfg = parseConfig({}).detectors;
    expect(cfg).toMatchObject({ tickMs: 10_000, timeoutMs: 5_000, modules: [], plugins: {} });
    expect(cfg.lowDisk).toMatchObject({ enabled: true, warnPercent: 85, criticalPercent: 95, windowMs: 6 * 3_600_000 });
    expect(cfg.podRestartStorm).toMatchObject({ crashLoopRestarts: 3, windowMs: 600_000 });
    expect(cfg.dnsAddonFailure.failShare).toBe(0.3);
    const loaded = resolveDetectors(cfg, []);
    expect(loaded.map((d) => d.detector.id)).toEqual([
      'agent-silent',
      'kubelet-down',
      'node-not-ready',
      'low-disk',
      'pod-restart-storm',
      'dns-addon-failure',
      'etcd-quorum',
      'cert-expiry',
    ]);
    expect(loaded.every((d) => d.enabled && d.timeoutMs === 5_000)).toBe(true);
  });

  it('names unknown keys and bad values, all at once', () => {
    const p = problems(() =>
      parseConfig({ detectors: { tickMs: 5, lowDisk: { warnPercnt: 80, criticalPercent: 50 }, agentSilent: { intervals: 0 }, bogus: {} } }),
    );
    expect(p).toEqual(
      expect.arrayContaining([
        'detectors.tickMs: must be at least 100 (ms)',
        'detectors.lowDisk: unknown key "warnPercnt"',
        'detectors: unknown key "bogus"',
        expect.stringMatching(/^detectors\.agentSilent\.intervals: /),
      ]),
    );
    expect(problems(() => parseConfig({ detectors: { lowDisk: { criticalPercent: 50 } } }))).toEqual(['detectors.lowDisk.criticalPercent: must be at least warnPercent']);
  });

  it('environment overrides reach a detector section', () => {
    expect(parseConfig({}, { WHISTLE_DETECTORS__LOW_DISK__ENABLED: 'false' }).detectors.lowDisk.enabled).toBe(false);
  });

  it('disables a detector and overrides its timeout', () => {
    const cfg = detectorsSchema.parse({ certExpiry: { enabled: false }, lowDisk: { timeoutMs: 9000 } });
    const loaded = resolveDetectors(cfg, []);
    expect(loaded.find((d) => d.detector.id === 'cert-expiry')!.enabled).toBe(false);
    expect(loaded.find((d) => d.detector.id === 'low-disk')!.timeoutMs).toBe(9000);
  });
});

describe('detector modules', () => {
  it('loads a module and validates its settings from plugins.<id>', async () => {
    const { detectors, problems: p } = await importDetectorModules([plugin]);
    expect(p).toEqual([]);
    expect(detectors.map((d) => d.id)).toEqual(['high-load']);
    const ok = resolveDetectors(detectorsSchema.parse({ plugins: { 'high-load': { limit: 3 } } }), detectors);
    expect(ok.find((d) => d.detector.id === 'high-load')!.config).toEqual({ limit: 3 });
    expect(problems(() => resolveDetectors(detectorsSchema.parse({ plugins: { 'high-load': { limit: -1, colour: 'red', enabled: 'yes' } } }), detectors))).toEqual(
      expect.arrayContaining([
        'detectors.plugins.high-load.enabled: Invalid input: expected boolean, received string',
        'detectors.plugins.high-load.limit: Too small: expected number to be >0',
        'detectors.plugins.high-load: unknown key "colour"',
      ]),
    );
  });

  it('reports missing modules, modules without detectors, unknown plugin ids and duplicates', async () => {
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, 'export const x = 1;\n');
    const badId = join(dir, 'bad-id.mjs');
    writeFileSync(badId, "export default { id: 'Bad_Id', description: 'x', configSchema: { safeParse: () => ({ success: true, data: {} }) }, evaluate: async () => [] };\n");
    const r = await importDetectorModules([join(dir, 'missing.ts'), empty, badId]);
    expect(r.problems).toEqual([
      expect.stringMatching(/^detectors\.modules\[0\]: cannot load ".*missing\.ts": /),
      expect.stringMatching(/^detectors\.modules\[1\]: ".*empty\.mjs" exports no detector/),
      'detectors.modules[2]: detector id "Bad_Id" must be lower-case kebab-case',
    ]);
    const { detectors } = await importDetectorModules([plugin]);
    expect(problems(() => resolveDetectors(detectorsSchema.parse({ plugins: { nope: {}, 'low-disk': {} } }), [...detectors, ...detectors]))).toEqual([
      'detectors.modules: detector id "high-load" is loaded twice (or shadows a built-in)',
      'detectors.plugins.nope: no detector with this id is loaded (see detectors.modules)',
      'detectors.plugins.low-disk: "low-disk" is built in; configure it under detectors.lowDisk',
    ]);
  });
});
