import { describe, expect, it } from 'vitest';
import type { IncidentView } from '../../core/pipeline.ts';
import { formatIssues } from '../../core/config/load.ts';
import { addonRestartConfig } from './config.ts';
import { addonLock, addonTarget, crashLooping, describeRestart, dnsVerdict, restartPatch, restartPlan, rolloutState, selectorQuery, workloadHealthy, type PodLike } from './logic.ts';

const cfg = addonRestartConfig.parse({});
const incident = (subject: string): IncidentView => ({ id: 'i', fingerprint: 'f', cluster: 'c1', detector: 'dns-addon-failure', subject, severity: 'critical', state: 'open', summary: '', openedAt: 0, updatedAt: 0, labels: {}, evidence: {} });

const pod = (name: string, o: { ready?: boolean; waiting?: string; uid?: string; deleting?: boolean } = {}): PodLike => ({
  metadata: { name, uid: o.uid ?? `uid-${name}`, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: o.ready === false || o.waiting ? 'False' : 'True' }],
    containerStatuses: [{ name: 'main', restartCount: o.waiting ? 4 : 0, state: o.waiting ? { waiting: { reason: o.waiting } } : { running: {} }, lastState: o.waiting ? { terminated: { reason: 'Error', exitCode: 2 } } : {} }],
  },
});

const deployment = (o: { gen?: number; observed?: number; replicas?: number; updated?: number; available?: number; total?: number }) => ({
  metadata: { generation: o.gen ?? 2 },
  spec: { replicas: o.replicas ?? 2 },
  status: { observedGeneration: o.observed ?? 2, replicas: o.total ?? o.replicas ?? 2, updatedReplicas: o.updated ?? 2, availableReplicas: o.available ?? 2 },
});

describe('addon-restart config', () => {
  it('restarts CoreDNS and kube-dns by default, by rollout, as DNS add-ons', () => {
    expect(cfg.addons.map((a) => [a.kind, a.namespace, a.name, a.method, a.dns])).toEqual([
      ['Deployment', 'kube-system', 'coredns', 'rollout-restart', true],
      ['Deployment', 'kube-system', 'kube-dns', 'rollout-restart', true],
    ]);
  });

  it('refuses an unknown kind, an empty or malformed namespace, an unknown method and a duplicate, naming the field', () => {
    const problems = (addons: unknown) => {
      const r = addonRestartConfig.safeParse({ addons });
      return r.success ? [] : formatIssues(r.error.issues, 'remediation.addonRestart');
    };
    expect(problems([{ kind: 'StatefulSet', namespace: 'kube-system', name: 'x' }])).toEqual([expect.stringMatching(/^remediation\.addonRestart\.addons\.0\.kind: /)]);
    expect(problems([{ kind: 'Deployment', namespace: '', name: 'x' }])).toEqual([expect.stringMatching(/^remediation\.addonRestart\.addons\.0\.namespace: must not be empty/)]);
    expect(problems([{ kind: 'Deployment', namespace: 'Kube_System', name: 'x' }])).toEqual([expect.stringMatching(/^remediation\.addonRestart\.addons\.0\.namespace: must be a DNS-1123 label/)]);
    expect(problems([{ kind: 'Deployment', namespace: 'a', name: 'x', method: 'reboot' }])).toEqual([expect.stringMatching(/^remediation\.addonRestart\.addons\.0\.method: /)]);
    expect(problems([{ kind: 'Deployment', namespace: 'a', name: 'x' }, { kind: 'Deployment', namespace: 'a', name: 'x' }])).toEqual(['remediation.addonRestart.addons.1: a/Deployment/x is listed twice']);
  });
});

describe('addon-restart logic', () => {
  it('an incident about a configured add-on names it; failing DNS probes name the DNS add-ons in order; anything else is not ours', () => {
    expect(addonTarget(incident('addon:kube-system/Deployment/coredns'), cfg.addons)).toMatchObject({ addon: { name: 'coredns' }, why: 'addon' });
    expect(addonTarget(incident('addon:kube-system/Deployment/metrics-server'), cfg.addons)).toBeNull();
    expect(addonTarget(incident('dns-probe:cluster-dns'), cfg.addons)?.candidates.map((a) => a.name)).toEqual(['coredns', 'kube-dns']);
    expect(addonTarget(incident('dns-probe:cluster-dns'), [{ kind: 'DaemonSet', namespace: 'x', name: 'y', method: 'rollout-restart', dns: false }])).toBeNull();
    expect(addonLock('c1', cfg.addons[0]!)).toBe('addon/c1/kube-system/Deployment/coredns');
  });

  it('the restart is the annotation kubectl rollout restart sets, in the pod template', () => {
    expect(restartPatch('2026-12-01T11:00:00.000Z')).toEqual({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-01T11:00:00.000Z' } } } } });
  });

  it('the plan says what is done and what must be seen', () => {
    const plan = restartPlan({ addon: cfg.addons[0]!, candidates: [], why: 'dns-probe' }, { stableForMs: 30_000 }, true);
    expect(plan.split('\n')).toEqual([
      "restart add-on kube-system/Deployment/coredns (the agents' DNS probes fail and it serves DNS)",
      '  1. rollout restart of Deployment kube-system/coredns: set its pod template\'s kubectl.kubernetes.io/restartedAt (a strategic-merge patch), the controller replaces the pods',
      '  2. verify: every replica of kube-system/Deployment/coredns updated and available, none crash-looping, for 30 s',
      "  3. verify: the agents' DNS probe samples taken after that say up",
    ]);
  });

  it('selectors as the API takes them', () => {
    expect(selectorQuery({ matchLabels: { app: 'dns' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a', 'b'] }, { key: 'x', operator: 'DoesNotExist' }] })).toBe('app=dns,tier in (a,b),!x');
  });

  it('healthy only when the controller saw the change, every replica is updated and available, and no pod crash-loops', () => {
    const ok = [pod('a'), pod('b')];
    expect(workloadHealthy(rolloutState('Deployment', deployment({})), ok)).toEqual({ healthy: true, why: '2 of 2 available, 2 updated' });
    expect(workloadHealthy(rolloutState('Deployment', deployment({ gen: 3 })), ok).why).toMatch(/^the controller has not seen the change yet/);
    expect(workloadHealthy(rolloutState('Deployment', deployment({ updated: 1, total: 3 })), ok)).toEqual({ healthy: false, why: '2 of 2 available, 1 updated, 2 old' });
    expect(workloadHealthy(rolloutState('Deployment', deployment({})), [pod('a'), pod('b', { waiting: 'CrashLoopBackOff' })]).why).toBe('2 of 2 available, 2 updated; crash-looping: b');
    expect(workloadHealthy(rolloutState('Deployment', deployment({})), ok, new Set(['uid-a'])).why).toBe('2 of 2 available, 2 updated; deleted pods still listed: a');
    const ds = { metadata: { generation: 1 }, status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 } };
    expect(workloadHealthy(rolloutState('DaemonSet', ds), ok)).toEqual({ healthy: false, why: '2 of 3 available, 3 updated' });
  });

  it('crash-looping means a container waiting in CrashLoopBackOff', () => {
    expect(crashLooping(pod('a', { waiting: 'CrashLoopBackOff' }))).toBe(true);
    expect(crashLooping(pod('a', { waiting: 'ImagePullBackOff' }))).toBe(false);
    expect(crashLooping(pod('a'))).toBe(false);
  });

  it('DNS answers once fresh samples exist and none is down', () => {
    expect(dnsVerdict([])).toEqual({ answered: false, failing: [] });
    expect(dnsVerdict([{ node: 'n1', probe: 'dns', up: true, ts: 1 }])).toEqual({ answered: true, failing: [] });
    expect(dnsVerdict([{ node: 'n2', probe: 'dns', up: false, ts: 1 }, { node: 'n1', probe: 'dns', up: true, ts: 1 }])).toEqual({ answered: false, failing: ['n2 (dns)'] });
  });

  it('says what was done', () => {
    expect(describeRestart({ addon: 'kube-system/Deployment/coredns', method: 'rollout-restart', restartedAt: 'T', generation: 4 })).toBe('  - rollout restart of kube-system/Deployment/coredns: kubectl.kubernetes.io/restartedAt=T, generation 4');
    expect(describeRestart({ addon: 'kube-system/DaemonSet/kube-proxy', method: 'delete-crashlooping', deletedPods: [{ name: 'p', uid: 'u', restarts: 4, lastExitCode: 2, lastReason: 'Error' }] })).toBe(
      '  - deleted 1 crash-looping pod(s) of kube-system/DaemonSet/kube-proxy: p (4 restarts, last Error 2)',
    );
  });
});
