import { describe, expect, it } from 'vitest';
import { formatIssues } from '../../core/config/load.ts';
import { remediationSchema } from '../../remediators/config.ts';

const parse = (remediation: unknown) => {
  const r = remediationSchema.safeParse(remediation);
  return r.success ? { ok: true as const, chains: r.data.chains } : { ok: false as const, problems: formatIssues(r.error.issues, 'remediation') };
};

describe('remediation.chains config', () => {
  it('none configured by default (the stage applies DEFAULT_CHAINS under what is configured)', () => {
    expect(parse({})).toEqual({ ok: true, chains: {} });
  });

  it('takes ordered steps per detector, each with an optional timeout', () => {
    const chains = { 'kubelet-down': [{ remediator: 'service-restart', timeoutMs: 60_000 }, { remediator: 'service-restart' }] };
    expect(parse({ chains })).toEqual({ ok: true, chains });
  });

  it('refuses an unknown remediator, an empty chain and unknown fields, naming the field', () => {
    expect(parse({ chains: { 'kubelet-down': [{ remediator: 'service-restart' }, { remediator: 'reboot' }] } })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^remediation\.chains\.kubelet-down\.1\.remediator: must be one of .*service-restart/)],
    });
    expect(parse({ serviceRestart: { enabled: false }, chains: { 'kubelet-down': [{ remediator: 'service-restart' }] } })).toEqual({
      ok: false,
      problems: ['remediation.chains.kubelet-down.0.remediator: service-restart is disabled (remediation.serviceRestart.enabled: false)'],
    });
    expect(parse({ chains: { 'node-not-ready': [{ remediator: 'cordon-drain', timeoutMs: 0 }] } })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^remediation\.chains\.node-not-ready\.0\.timeoutMs: /)],
    });
    expect(parse({ chains: { 'kubelet-down': [{ remediator: 'service-restart' }, { remediator: 'drain-node' }] } })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^remediation\.chains\.kubelet-down\.1\.remediator: must be one of .*cordon-drain/)],
    });
    expect(parse({ chains: { 'low-disk': [] } })).toEqual({ ok: false, problems: ['remediation.chains.low-disk: needs at least one step'] });
    expect(parse({ chains: { 'low-disk': [{ remediator: 'disk-cleanup', after: 1 }] } })).toMatchObject({ ok: false, problems: [expect.stringMatching(/^remediation\.chains\.low-disk\.0/)] });
  });
});
