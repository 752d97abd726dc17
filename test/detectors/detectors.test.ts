// Detectors end to end: a real Whistle (chDB in a temp dir, real HTTP), nodes registered and
// authorized through the API, samples posted to /v1/telemetry with timestamps spread over the past
// hours, one engine tick, and the findings checked at the sink and through to incidents.
import { ingestServices } from '../../ingest/services.ts';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../core/types.ts';
import type { DetectorEngine, TickResult } from '../../detectors/engine.ts';
import type { LatestFindings } from '../../detectors/latest-findings.ts';
import { detectorServices } from '../../detectors/services.ts';
import type { IncidentManager } from '../../remediators/incidents/manager.ts';
import { incidentServices } from '../../remediators/incidents/services.ts';
import { startTestWhistle, type TestWhistle } from '../helpers/whistle.ts';

const GiB = 1024 ** 3;
const HOUR = 3_600_000;
const MIN = 60_000;

interface Sample {
  name: string;
  value: number;
  ts: number;
  labels?: Record<string, string>;
}

const fs = { mount: '/var', device: '/dev/vda2', fstype: 'ext4', readonly: 'false' };

describe('detectors end to end', () => {
  let t: TestWhistle;
  let engine: DetectorEngine;
  let latest: LatestFindings;
  let incidents: IncidentManager;
  let clockOffsetMs = 0;
  /** The latest verdict of `detector` for c1, as GET /v1/findings serves it. */
  const findings = (detector: string): Finding[] => latest.list({ cluster: 'c1', detector });
  /** No run handed its verdict to the incident manager and failed there. */
  const noSinkFailures = (tick: TickResult) => tick.runs.filter((r) => r.outcome === 'sink').map((r) => r.error);
  const now = Date.now();
  const tokens = new Map<string, string>();

  async function send(node: string, samples: Sample[]): Promise<void> {
    for (let i = 0; i < samples.length; i += 5000) {
      const res = await t.post('/v1/telemetry', { cluster: 'c1', node, samples: samples.slice(i, i + 5000) }, tokens.get(node));
      expect(res.status, await res.clone().text()).toBe(202);
    }
  }

  /** Every `stepMs` from `fromAgo` until now. */
  function every(fromAgo: number, stepMs: number, f: (ts: number, ago: number) => Sample[]): Sample[] {
    const out: Sample[] = [];
    for (let ago = fromAgo; ago >= 0; ago -= stepMs) out.push(...f(now - ago, ago));
    return out;
  }

  beforeAll(async () => {
    t = await startTestWhistle(
      {
        detectors: {
          tickMs: 3_600_000, // ticks are driven by the test
          // Generous: real chDB queries on a loaded 2-core machine; `hang` has its own 300 ms.
          timeoutMs: 30_000,
          modules: [fileURLToPath(new URL('./fixtures/plugin-detector.ts', import.meta.url)), fileURLToPath(new URL('./fixtures/broken-detectors.ts', import.meta.url))],
          plugins: { 'high-load': { limit: 8 }, hang: { timeoutMs: 300 } },
          queries: { latenessMs: 0, warmupChunkMs: 6 * HOUR },
        },
        incidents: { resolveWindowMs: 0, minOpenMs: 0 },
      },
      { clock: () => Date.now() + clockOffsetMs },
    );
    engine = t.whistle.service(detectorServices.engine);
    latest = t.whistle.service(detectorServices.findings);
    incidents = t.whistle.service(incidentServices.manager);
    for (const n of ['n1', 'n2', 'n3', 'n4']) tokens.set(n, await t.addNode(n));

    // n1: /var growing 3 GiB/h over 6 h, 78 of 100 GiB now: full in ~7.3 h (warning by trend only).
    // One wild reading in the middle must not matter. DNS fine, a cert expiring in 3 days, load 12.
    await send(
      'n1',
      every(6 * HOUR, 5 * MIN, (ts, ago) => [
        { name: 'node_filesystem_size_bytes', value: 100 * GiB, ts, labels: fs },
        { name: 'node_filesystem_used_bytes', value: ago === 3 * HOUR ? 99 * GiB : (78 - (3 * ago) / HOUR) * GiB, ts, labels: fs },
        { name: 'probe_http_up', value: 1, ts, labels: { probe: 'kubelet', target: 'https://127.0.0.1:10250/healthz' } },
      ]).concat(
        every(2 * MIN, 10_000, (ts): Sample[] => [
          { name: 'probe_dns_up', value: 1, ts, labels: { probe: 'cluster-dns', query: 'kubernetes.default', type: 'A', resolver: '10.96.0.10' } },
          { name: 'cert_expiry_seconds', value: 3 * 86_400, ts, labels: { probe: 'apiserver', path: '/etc/kubernetes/pki/apiserver.crt', subject: 'CN=kube-apiserver', serial: '0A1B' } },
          { name: 'node_load1', value: 12, ts },
          // etcd as seen from n1: a is the leader, b is fine, c is down: degraded, quorum held.
          { name: 'etcd_cluster_members', value: 3, ts },
          { name: 'etcd_member_up', value: 1, ts, labels: { member: 'a', endpoint: 'https://10.0.0.1:2379' } },
          { name: 'etcd_member_is_leader', value: 1, ts, labels: { member: 'a', endpoint: 'https://10.0.0.1:2379' } },
          { name: 'etcd_member_up', value: 1, ts, labels: { member: 'b', endpoint: 'https://10.0.0.2:2379' } },
          { name: 'etcd_member_is_leader', value: 0, ts, labels: { member: 'b', endpoint: 'https://10.0.0.2:2379' } },
          { name: 'etcd_member_up', value: 0, ts, labels: { member: 'c', endpoint: 'https://10.0.0.3:2379' } },
        ]),
      ),
    );
    // n2: /var at 96 % (critical by level), its DNS probe failing.
    await send(
      'n2',
      every(1 * HOUR, 5 * MIN, (ts) => [
        { name: 'node_filesystem_size_bytes', value: 100 * GiB, ts, labels: fs },
        { name: 'node_filesystem_used_bytes', value: 96 * GiB, ts, labels: fs },
        { name: 'node_filesystem_size_bytes', value: 100 * GiB, ts, labels: { ...fs, mount: '/mnt/iso', readonly: 'true' } },
        { name: 'node_filesystem_used_bytes', value: 100 * GiB, ts, labels: { ...fs, mount: '/mnt/iso', readonly: 'true' } },
        { name: 'probe_dns_up', value: 0, ts, labels: { probe: 'cluster-dns', query: 'kubernetes.default', type: 'A', resolver: '10.96.0.10' } },
      ]),
    );
    // n3: kubelet probe fine until 2 min ago, failing since; DNS failing too (2 of 3 nodes: 67 %).
    await send(
      'n3',
      every(10 * MIN, 10_000, (ts, ago): Sample[] => [
        { name: 'probe_http_up', value: ago > 2 * MIN ? 1 : 0, ts, labels: { probe: 'kubelet', target: 'https://127.0.0.1:10250/healthz' } },
        { name: 'probe_dns_up', value: ago > 2 * MIN ? 1 : 0, ts, labels: { probe: 'cluster-dns', query: 'kubernetes.default', type: 'A', resolver: '10.96.0.10' } },
      ]),
    );
    // n4: sent one batch 2 minutes ago, silent since.
    await send('n4', [{ name: 'node_load1', value: 0.5, ts: now - 2 * MIN }]);
    expect(await t.whistle.service(ingestServices.samplesWriter).drained()).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
  });

  it('reports each built-in problem from posted samples, with evidence', async () => {
    const tick = await engine.tick();
    expect(tick.runs.filter((r) => r.outcome !== "ok").map((r) => `${r.detector}:${r.outcome}`).sort(), JSON.stringify(tick.runs.map((r) => r.error).filter(Boolean))).toEqual(['boom:error', 'hang:timeout']);

    const disk = findings('low-disk');
    expect(disk.map((f) => [f.subject, f.severity]).sort()).toEqual([
      ['n1:/var:bytes', 'warning'],
      ['n2:/var:bytes', 'critical'],
    ]);
    const n1 = disk.find((f) => f.subject === 'n1:/var:bytes')!;
    expect(n1.evidence.reasons).toEqual(['trend']);
    const ttfHours = (n1.evidence.timeToFullSeconds as number) / 3600;
    expect(ttfHours).toBeGreaterThan(6.5);
    expect(ttfHours).toBeLessThan(8.2);
    expect(n1.evidence.trendPerHour as number).toBeCloseTo(3 * GiB, -8);

    expect(findings('kubelet-down').map((f) => f.subject)).toEqual(['n3']);
    // n4's last sample is 2 min old, but it was authorized moments ago: it still has its grace period.
    expect(findings('agent-silent')).toEqual([]);
    const dns = findings('dns-addon-failure');
    expect(dns.map((f) => f.subject)).toEqual(['dns-probe:cluster-dns']);
    expect(dns[0]!.evidence).toMatchObject({ failingNodes: 2, reportingNodes: 3, failing: ['n2', 'n3'] });
    expect(findings('cert-expiry').map((f) => [f.subject, f.severity])).toEqual([['n1:apiserver:0A1B', 'critical']]);
    const etcd = findings('etcd-quorum');
    expect(etcd.map((f) => [f.subject, f.severity])).toEqual([['quorum', 'warning']]);
    expect(etcd[0]!.evidence).toMatchObject({ expectedMembers: 3, healthyMembers: 2, down: ['c'] });
    // No Kubernetes data in this cluster: those detectors ran and found nothing.
    const ran = (d: string) => tick.runs.some((r) => r.detector === d && r.cluster === 'c1' && r.outcome === 'ok');
    expect(ran('node-not-ready') && findings('node-not-ready').length === 0).toBe(true);
    expect(ran('pod-restart-storm') && findings('pod-restart-storm').length === 0).toBe(true);
    // The plugin loaded from its module path, with its configured limit.
    expect(findings('high-load').map((f) => f.subject)).toEqual(['n1']);
  });

  it('each finding opened one incident with its fingerprint', async () => {
    const open = await incidents.list({ active: true });
    const byFp = new Map(open.map((i) => [i.fingerprint, i]));
    const all = latest.list({ cluster: 'c1' });
    expect(all).toHaveLength(7);
    for (const f of all) expect(byFp.get(f.fingerprint), f.summary).toMatchObject({ detector: f.detector, subject: f.subject, severity: f.severity });
  });

  it('counts broken detectors in /metrics without holding up the others', async () => {
    const res = await fetch(`${t.url}/metrics`);
    const text = await res.text();
    expect(text).toMatch(/whistle_detector_errors_total\{detector="boom",reason="error"\} [1-9]/);
    expect(text).toMatch(/whistle_detector_errors_total\{detector="hang",reason="(timeout|overrun)"\} [1-9]/);
    expect(text).toMatch(/whistle_detector_duration_seconds_count\{detector="low-disk"\} [1-9]/);
    expect(text).toMatch(/whistle_detector_tick_seconds_count [1-9]/);
    expect(text).toMatch(/whistle_detector_findings\{detector="low-disk"\} 2/);
  });

  it('a second tick keeps fingerprints stable; a fixed problem resolves its incident', async () => {
    const before = new Map(findings('low-disk').map((f) => [f.subject, f.fingerprint]));
    // n2 cleaned up /var.
    await send('n2', [
      { name: 'node_filesystem_size_bytes', value: 100 * GiB, ts: Date.now(), labels: fs },
      { name: 'node_filesystem_used_bytes', value: 40 * GiB, ts: Date.now(), labels: fs },
    ]);
    expect(await t.whistle.service(ingestServices.samplesWriter).drained()).toBe(true);
    const tick = await engine.tick();
    // The hung detector from the first tick may still be "running": it is skipped, not stacked.
    expect(tick.runs.find((r) => r.detector === 'hang')!.outcome).toMatch(/^(timeout|overrun)$/);
    expect(tick.runs.filter((r) => r.detector === 'low-disk').map((r) => r.outcome)).toEqual(['ok']);
    const after = findings('low-disk');
    expect(after.map((f) => f.subject)).toEqual(['n1:/var:bytes']);
    expect(after[0]!.fingerprint).toBe(before.get('n1:/var:bytes'));
    expect(noSinkFailures(tick)).toEqual([]);
    const n2 = (await incidents.list({})).find((i) => i.fingerprint === before.get('n2:/var:bytes'));
    expect(n2?.state).toBe('resolved');
  });

  it('agent-silent: authorized agents quiet for 3 intervals', async () => {
    // 45 s on: nothing has been posted since the set-up, and n4's grace period is over.
    clockOffsetMs = 45_000;
    await engine.tick();
    clockOffsetMs = 0;
    const silent = findings('agent-silent');
    expect(silent.map((f) => [f.subject, f.severity])).toEqual([
      ['n1', 'warning'],
      ['n2', 'warning'],
      ['n3', 'warning'],
      ['n4', 'warning'],
    ]);
    const n4 = silent.find((f) => f.subject === 'n4')!;
    expect(n4.evidence).toMatchObject({ silentNodes: 4, authorizedNodes: 4, expectedIntervalSeconds: 10 });
    expect(n4.summary).toMatch(/^agent on n4 silent for \d+ s/);
  });

  it('serves the latest findings to operators', async () => {
    // The latest findings are the last tick's, and n3's set-up samples go stale 60 s after the
    // set-up (the clock-shifted tick above, or a slow run, sees none): fresh ones first, still down.
    const at = Date.now();
    await send('n3', [40_000, 30_000, 20_000, 10_000, 0].map((ago) => ({ name: 'probe_http_up', value: 0, ts: at - ago, labels: { probe: 'kubelet', target: 'https://127.0.0.1:10250/healthz' } })));
    expect(await t.whistle.service(ingestServices.samplesWriter).drained()).toBe(true);
    await engine.tick();
    const res = await t.operator('GET', '/v1/findings?detector=kubelet-down');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { findings: Finding[] };
    expect(body.findings.map((f) => f.subject)).toEqual(['n3']);
    expect((await fetch(`${t.url}/v1/findings`)).status).toBe(401);
  });
});
