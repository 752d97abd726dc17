// The Kubernetes-based detectors over real kube_objects rows in chDB, as the watchers write them
// (ingest/kube/records.ts): node conditions, a crash-looping pod whose restarts come from its object
// history, a CoreDNS Deployment without available replicas. Also: no kube data means no findings,
// and Events read back at their latest version.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistry } from '../../core/metrics.ts';
import type { DetectorReport } from '../../core/pipeline.ts';
import { detectorsSchema } from '../../detectors/config.ts';
import { DetectorEngine } from '../../detectors/engine.ts';
import { resolveDetectors } from '../../detectors/loader.ts';
import { toEventRow, toKubeRecord, toObjectRow, type KubeObject } from '../../ingest/kube/records.ts';
import { KubeStateReader } from '../../ingest/kube/state-reader.ts';
import { ChdbStore } from '../../store/chdb-store.ts';
import { migrate } from '../../store/migrate.ts';

const MIN = 60_000;
const now = Date.now();
let rv = 1000;

function obj(kind: string, name: string, uid: string, body: Record<string, unknown>, namespace?: string): KubeObject {
  const { metadata, ...rest } = body;
  return { apiVersion: 'v1', kind, metadata: { name, uid, resourceVersion: String(++rv), ...(namespace ? { namespace } : {}), ...((metadata as object) ?? {}) }, ...rest } as KubeObject;
}

function node(name: string, ready: string, since: number) {
  return obj('Node', name, `uid-${name}`, {
    spec: {},
    status: { conditions: [{ type: 'Ready', status: ready, reason: ready === 'True' ? 'KubeletReady' : 'NodeStatusUnknown', message: '', lastTransitionTime: new Date(since).toISOString() }] },
  });
}

function pod(name: string, uid: string, restartCount: number, owner: { kind: string; name: string }) {
  return obj(
    'Pod',
    name,
    uid,
    {
      metadata: { ownerReferences: [{ ...owner, controller: true }] },
      spec: { nodeName: 'n1' },
      status: {
        phase: 'Running',
        containerStatuses: [
          {
            name: 'app',
            ready: false,
            restartCount,
            state: { waiting: { reason: 'CrashLoopBackOff' } },
            lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: new Date(now - 30_000).toISOString() } },
          },
        ],
      },
    },
    'shop',
  );
}

describe('Kubernetes-based detectors over kube_objects', () => {
  let dir: string;
  let store: ChdbStore;
  const reports: DetectorReport[] = [];
  let engine: DetectorEngine;
  let reader: KubeStateReader;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'whistle-kube-detect-'));
    store = new ChdbStore(join(dir, 'chdb'));
    await migrate(store, { retentionDays: 30 });
    const rows = [
      [node('n1', 'True', now - 3600_000), now - 2 * MIN],
      [node('n2', 'Unknown', now - 5 * MIN), now - 5 * MIN],
      // A pod restarting: 2 restarts before the window, 6 now (4 within the last 10 min).
      [pod('web-7d9f8c6b5d-x1x2y', 'uid-web', 2, { kind: 'ReplicaSet', name: 'web-7d9f8c6b5d' }), now - 20 * MIN],
      [pod('web-7d9f8c6b5d-x1x2y', 'uid-web', 3, { kind: 'ReplicaSet', name: 'web-7d9f8c6b5d' }), now - 8 * MIN],
      [pod('web-7d9f8c6b5d-x1x2y', 'uid-web', 6, { kind: 'ReplicaSet', name: 'web-7d9f8c6b5d' }), now - 1 * MIN],
      // Restarted often long ago, unchanged for two days: not restarting now.
      [pod('old-0', 'uid-old', 40, { kind: 'StatefulSet', name: 'old' }), now - 2 * 86_400_000],
      [obj('Deployment', 'coredns', 'uid-coredns', { spec: { replicas: 2 }, status: { replicas: 2, availableReplicas: 0, updatedReplicas: 2, unavailableReplicas: 2 } }, 'kube-system'), now - 3 * MIN],
    ] as const;
    const kindOf = (o: KubeObject) => o.kind!;
    await store.insert(
      'kube_objects',
      rows.map(([o, ts]) => toObjectRow(toKubeRecord('k1', kindOf(o), o, false, ts)) as unknown as Record<string, unknown>),
    );
    const backOff = (count: number, lastAgo: number, message: string) =>
      toEventRow(
        toKubeRecord('k1', 'Event', {
          metadata: { name: 'web.1', namespace: 'shop', uid: 'uid-ev-web', resourceVersion: String(++rv) },
          type: 'Warning',
          reason: 'BackOff',
          message,
          count,
          lastTimestamp: new Date(now - lastAgo).toISOString(),
          involvedObject: { kind: 'Pod', namespace: 'shop', name: 'web-7d9f8c6b5d-x1x2y' },
        }, false),
      );
    const scheduled = toEventRow(
      toKubeRecord('k1', 'Event', {
        metadata: { name: 'web.0', namespace: 'shop', uid: 'uid-ev-sched', resourceVersion: String(++rv) },
        type: 'Normal',
        reason: 'Scheduled',
        lastTimestamp: new Date(now - 30 * MIN).toISOString(),
      }, false),
    );
    await store.insert('kube_events', [backOff(3, 6 * MIN, 'first'), backOff(7, 2 * MIN, 'latest'), scheduled] as unknown as Record<string, unknown>[]);
    reader = new KubeStateReader(store);
    const config = detectorsSchema.parse({});
    engine = new DetectorEngine({
      store,
      config,
      detectors: resolveDetectors(config, []),
      sink: { report: async (r) => void reports.push(r) },
      registry: createRegistry(false),
      log: pino({ level: 'silent' }),
      clusters: () => ['k1', 'unwatched'],
      nodes: { list: () => [] },
      clusterState: reader,
    });
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  });

  const findings = (cluster: string, detector: string) => reports.filter((r) => r.cluster === cluster && r.detector === detector).flatMap((r) => r.findings);

  it('reports NotReady nodes, a crash-looping pod from its history, and CoreDNS unavailable', async () => {
    const tick = await engine.tick();
    expect(tick.runs.filter((r) => r.outcome !== 'ok'), JSON.stringify(tick.runs.filter((r) => r.error))).toEqual([]);

    expect(findings('k1', 'node-not-ready').map((f) => [f.subject, f.severity])).toEqual([['n2', 'critical']]);

    const pods = findings('k1', 'pod-restart-storm');
    expect(pods.map((f) => f.subject)).toEqual(['shop/web-7d9f8c6b5d-x1x2y']);
    expect(pods[0]!.labels).toMatchObject({ workload: 'Deployment/web', node: 'n1' });
    expect(pods[0]!.evidence.containers).toEqual([
      expect.objectContaining({ name: 'app', restartsInWindow: 4, restartCount: 6, waitingReason: 'CrashLoopBackOff', lastTermination: expect.objectContaining({ reason: 'OOMKilled', exitCode: 137 }) }),
    ]);

    const dns = findings('k1', 'dns-addon-failure');
    expect(dns.map((f) => [f.subject, f.severity])).toEqual([['addon:kube-system/Deployment/coredns', 'critical']]);
  });

  it('a cluster without Kubernetes data gets complete, empty verdicts', () => {
    for (const d of ['node-not-ready', 'pod-restart-storm', 'dns-addon-failure']) {
      expect(reports.some((r) => r.cluster === 'unwatched' && r.detector === d)).toBe(true);
      expect(findings('unwatched', d)).toEqual([]);
    }
  });

  it('reads Events at their latest version, newest first, from the time asked for', async () => {
    const events = await reader.forCluster('k1').events({ sinceMs: now - 60 * MIN });
    expect(events).toEqual([
      {
        namespace: 'shop',
        name: 'web.1',
        type: 'Warning',
        reason: 'BackOff',
        message: 'latest',
        involvedKind: 'Pod',
        involvedNamespace: 'shop',
        involvedName: 'web-7d9f8c6b5d-x1x2y',
        count: 7,
        lastTs: Date.parse(new Date(now - 2 * MIN).toISOString()),
      },
      expect.objectContaining({ name: 'web.0', reason: 'Scheduled', count: 1 }),
    ]);
    expect((await reader.forCluster('k1').events({ sinceMs: now - 10 * MIN })).map((e) => e.name)).toEqual(['web.1']);
    expect(await reader.forCluster('unwatched').events({ sinceMs: 0 })).toEqual([]);
  });
});
