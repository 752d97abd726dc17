// The pure parts of Kubernetes ingestion: API objects to rows, and rows back to the state the
// detectors read, including objects with missing or odd status (a just-created pod, a node that
// never reported).
import { describe, expect, it } from 'vitest';
import { containerState, daemonSetState, deploymentState, nodeState, podState } from '../../ingest/kube/object-state.ts';
import { toEventRow, toKubeRecord, toObjectRow } from '../../ingest/kube/records.ts';
import { parseApiPath } from '../../ingest/routes/kube-proxy.ts';

describe('records', () => {
  it('drops managedFields and keeps uid, version and kind', () => {
    const r = toKubeRecord('c1', 'Pod', { metadata: { name: 'p', namespace: 'ns', uid: 'u1', resourceVersion: '42', managedFields: [{ big: 'x'.repeat(1000) }] }, spec: {} }, false, 5);
    expect(r).toMatchObject({ cluster: 'c1', kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u1', resourceVersion: '42', deleted: false, ts: 5 });
    expect(r.object).not.toContain('managedFields');
    expect(JSON.parse(r.object).kind).toBe('Pod');
    expect(toObjectRow(r)).toMatchObject({ resource_version: '42', deleted: false });
  });

  it('flattens core/v1 Events, new-style (series, eventTime) and old-style (count, timestamps)', () => {
    const old = toEventRow(
      toKubeRecord('c1', 'Event', {
        metadata: { name: 'e1', namespace: 'ns', uid: 'e', resourceVersion: '1' },
        type: 'Warning',
        reason: 'BackOff',
        message: 'Back-off restarting failed container',
        count: 7,
        firstTimestamp: '2026-01-01T00:00:00Z',
        lastTimestamp: '2026-01-01T00:10:00Z',
        involvedObject: { kind: 'Pod', namespace: 'ns', name: 'p', uid: 'u1' },
        source: { component: 'kubelet' },
      }, false),
    );
    expect(old).toMatchObject({ type: 'Warning', reason: 'BackOff', count: 7, involved_kind: 'Pod', involved_name: 'p', source: 'kubelet', first_ts: Date.parse('2026-01-01T00:00:00Z'), last_ts: Date.parse('2026-01-01T00:10:00Z') });
    const fresh = toEventRow(
      toKubeRecord('c1', 'Event', {
        metadata: { name: 'e2', uid: 'e2', resourceVersion: '2' },
        eventTime: '2026-01-01T00:00:00.000000Z',
        series: { count: 3, lastObservedTime: '2026-01-01T00:05:00.000000Z' },
        reportingComponent: 'scheduler',
      }, false),
    );
    expect(fresh).toMatchObject({ count: 3, source: 'scheduler', last_ts: Date.parse('2026-01-01T00:05:00Z'), type: '', involved_kind: '' });
  });
});

describe('cluster state from objects', () => {
  const noHistory = () => undefined;

  it('reads a node that never reported as Unknown, not as healthy', () => {
    expect(nodeState({ metadata: { name: 'n', uid: 'u' } })).toEqual({ name: 'n', ready: 'Unknown', conditions: [], unschedulable: false });
    const n = nodeState({ metadata: { name: 'n', uid: 'u' }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] } });
    expect(n).toMatchObject({ ready: 'False', unschedulable: true, conditions: [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady' }] });
    expect(nodeState({ metadata: { name: 'n', uid: 'u' }, status: { conditions: [{ type: 'Ready', status: 'odd' }] } }).ready).toBe('Unknown');
  });

  it('reads a pending pod without statuses, init containers before app containers, and the workload behind a ReplicaSet', () => {
    expect(podState({ metadata: { name: 'p', uid: 'u' } }, noHistory)).toEqual({ namespace: '', name: 'p', node: '', phase: 'Unknown', ready: false, workload: undefined, containers: [] });
    const p = podState(
      {
        metadata: { name: 'p', uid: 'u', namespace: 'ns', ownerReferences: [{ kind: 'ReplicaSet', name: 'web-7d9f8c6b5d', controller: true }] },
        spec: { nodeName: 'n1' },
        status: {
          phase: 'Running',
          initContainerStatuses: [{ name: 'init', restartCount: 1, state: { terminated: { reason: 'Completed' } } }],
          containerStatuses: [{ name: 'app', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { reason: 'Error', exitCode: 2, finishedAt: 't' } } }],
        },
      },
      (c) => (c === 'app' ? 1 : undefined),
    );
    expect(p).toMatchObject({ workload: { kind: 'Deployment', name: 'web' }, node: 'n1', phase: 'Running' });
    expect(p.containers.map((c) => c.name)).toEqual(['init', 'app']);
    expect(p.containers[1]).toEqual({
      name: 'app',
      ready: false,
      restartCount: 4,
      restartsInWindow: 3,
      state: 'waiting',
      waitingReason: 'CrashLoopBackOff',
      lastTermination: { reason: 'Error', exitCode: 2, finishedAt: undefined },
    });
    expect(p.containers[0]).toMatchObject({ restartsInWindow: 0, state: 'terminated', lastTermination: undefined });
    expect(containerState({ name: 'x' }, undefined)).toMatchObject({ state: 'unknown', restartCount: 0, restartsInWindow: 0, lastTermination: undefined });
    expect(podState({ metadata: { name: 'p', uid: 'u', ownerReferences: [{ kind: 'ReplicaSet', name: 'web-abc' }] } }, noHistory).workload).toEqual({ kind: 'ReplicaSet', name: 'web-abc' });
  });

  it('reads deployment and daemonset availability, absent status as nothing available', () => {
    const meta = { name: 'd', uid: 'u', namespace: 'kube-system', generation: 3 };
    expect(deploymentState({ metadata: meta, spec: { replicas: 2 }, status: { availableReplicas: 2, readyReplicas: 2, updatedReplicas: 1 } })).toEqual({
      kind: 'Deployment',
      namespace: 'kube-system',
      name: 'd',
      desired: 2,
      ready: 2,
      available: 2,
      updated: 1,
    });
    expect(deploymentState({ metadata: meta })).toMatchObject({ desired: 1, ready: 0, available: 0 });
    expect(daemonSetState({ metadata: meta, status: { desiredNumberScheduled: 3, numberReady: 2, numberAvailable: 1 } })).toMatchObject({ kind: 'DaemonSet', desired: 3, ready: 2, available: 1, updated: 0 });
  });

  it('reads a deployment\'s revision, the time it was first seen and its template\'s images; a pod\'s container images from its spec', () => {
    const meta = { name: 'd', uid: 'u', namespace: 'apps', annotations: { 'deployment.kubernetes.io/revision': '4' } };
    const template = { spec: { containers: [{ name: 'main', image: 'registry.example/web:2' }] } };
    expect(deploymentState({ metadata: meta, spec: { replicas: 2, template } }, 1_700_000_000_000)).toMatchObject({ revision: 4, revisionSince: 1_700_000_000_000, images: ['registry.example/web:2'] });
    expect(deploymentState({ metadata: { name: 'd', uid: 'u' } })).not.toHaveProperty('revision');
    const pod = podState({ metadata: { name: 'p', uid: 'u' }, spec: { containers: [{ name: 'main', image: 'registry.example/web:2' }] }, status: { containerStatuses: [{ name: 'main', image: 'docker.io/web:2' }] } }, noHistory);
    expect(pod.containers[0]!.image).toBe('registry.example/web:2');
  });
});

describe('proxy path rules', () => {
  it('refuses secrets in any casing and position, and paths outside the API', () => {
    for (const p of ['api/v1/secrets', 'api/v1/namespaces/a/Secrets/b', 'apis/apps/v1/namespaces/secrets/secrets']) expect(parseApiPath(p)).toMatchObject({ ok: false, status: 403 });
    expect(parseApiPath('metrics')).toMatchObject({ ok: false, status: 403 });
    expect(parseApiPath('api/v2/pods')).toMatchObject({ ok: false, status: 400 });
    expect(parseApiPath('api/v1/namespaces/a b/pods')).toMatchObject({ ok: false, status: 400 });
  });
});
