// Representative rows for the dashboard tests: agent telemetry (as agent/METRICS.md and the etcd
// telemetry describe it) to post through the ingest API, and Kubernetes objects shaped by the
// watchers' own encoders. Times are relative to `now` so every row falls in the tested range.
import { toEventRow, toKubeRecord, toObjectRow, type KubeEventRow, type KubeObject, type KubeObjectRow } from '../../ingest/kube/records.ts';

export interface PostedSample {
  name: string;
  value: number;
  ts: number;
  labels: Record<string, string>;
}

const MIN = 60_000;
const GB = 1e9;

/** `ticks` agent ticks one minute apart, ending at `now`: node, probe, agent and etcd metrics. */
export function agentTicks(now: number, ticks = 30, opts: { etcd?: boolean } = {}): PostedSample[] {
  const out: PostedSample[] = [];
  for (let i = 0; i < ticks; i++) {
    const ts = now - (ticks - 1 - i) * MIN;
    const add = (name: string, value: number, labels: Record<string, string> = {}) => out.push({ name, value, ts, labels });
    // Filesystems: "/" fills up steadily (for time to full), "/data disk" (a space in the mount) is flat.
    for (const [mount, device, fstype, avail0, rate] of [
      ['/', '/dev/vda1', 'ext4', 40 * GB, 0.2 * GB],
      ['/data disk', '/dev/vdb', 'xfs', 300 * GB, 0],
    ] as const) {
      const labels = { mount, device, fstype, readonly: 'false' };
      const size = mount === '/' ? 100 * GB : 500 * GB;
      const avail = avail0 - rate * i;
      const free = avail + 5 * GB;
      add('node_filesystem_size_bytes', size, labels);
      add('node_filesystem_free_bytes', free, labels);
      add('node_filesystem_avail_bytes', avail, labels);
      add('node_filesystem_used_bytes', size - free, labels);
      add('node_filesystem_files', 1_000_000, labels);
      add('node_filesystem_files_free', 900_000 - i * 100, labels);
      add('node_filesystem_files_used', 100_000 + i * 100, labels);
      add('node_filesystem_device_error', 0, labels);
    }
    add('node_memory_MemTotal_bytes', 8 * GB);
    add('node_memory_MemAvailable_bytes', 3 * GB + (i % 5) * 0.1 * GB);
    add('node_memory_Cached_bytes', 2 * GB);
    add('node_memory_Dirty_bytes', 1e6);
    add('node_memory_SwapTotal_bytes', 0);
    add('node_memory_SwapFree_bytes', 0);
    add('node_memory_used_ratio', 1 - (3 + (i % 5) * 0.1) / 8);
    add('node_load1', 0.5 + (i % 3));
    add('node_load5', 1.2);
    add('node_load15', 1.1);
    add('node_cpus', 4);
    if (i > 0) {
      // Absent from the first tick, as after an agent start.
      add('node_cpu_utilisation', 0.25 + (i % 4) * 0.05);
      add('node_cpu_iowait_ratio', 0.01);
      add('node_cpu_steal_ratio', 0);
    }
    add('node_uptime_seconds', 10_000 + i * 60);
    const kubelet = { probe: 'kubelet', target: 'https://127.0.0.1:10250/healthz' };
    add('probe_http_up', i === 20 ? 0 : 1, kubelet);
    add('probe_http_status_code', i === 20 ? 0 : 200, kubelet);
    add('probe_http_duration_seconds', 0.004, kubelet);
    const apiserver = { probe: 'apiserver', target: '127.0.0.1:6443' };
    add('probe_tcp_up', 1, apiserver);
    add('probe_tcp_duration_seconds', 0.001, apiserver);
    const dns = { probe: 'cluster-dns', query: 'kubernetes.default.svc.cluster.local', type: 'A', resolver: '10.96.0.10' };
    add('probe_dns_up', 1, dns);
    add('probe_dns_duration_seconds', 0.002, dns);
    add('probe_dns_answers', 1, dns);
    const certFile = { probe: 'apiserver', path: '/etc/kubernetes/pki/apiserver.crt' };
    add('probe_cert_up', 1, certFile);
    const cert = { ...certFile, subject: 'CN=kube-apiserver', serial: '0A1B2C' };
    const notAfter = Math.floor(now / 1000) + 20 * 86_400;
    add('cert_expiry_seconds', notAfter - ts / 1000, cert);
    add('cert_not_after_seconds', notAfter, cert);
    // Agent self-metrics; the collector error counter resets (agent restart) at tick 15.
    add('whistle_agent_spool_bytes', i > 25 ? 40_000 : 0);
    add('whistle_agent_spool_batches', i > 25 ? 2 : 0);
    add('whistle_agent_spool_samples', i > 25 ? 180 : 0);
    add('whistle_agent_spool_dropped_samples_total', i > 22 ? 50 : 0);
    add('whistle_agent_samples_collected_total', i * 90);
    add('whistle_agent_samples_sent_total', i * 90);
    add('whistle_agent_dead_letter_samples_total', 0);
    add('whistle_agent_collector_errors_total', i < 15 ? Math.floor(i / 5) : Math.floor((i - 15) / 5), { collector: 'filesystems' });
    add('whistle_agent_collector_errors_total', 0, { collector: 'memory' });
    add('whistle_agent_collection_duration_seconds', 0.02);
    if (opts.etcd) {
      // Three members; m1 leads, then m2 from tick 15; m3 goes down at tick 25.
      add('etcd_cluster_members', 3, { member: '', endpoint: '' });
      for (const [k, member] of ['m1', 'm2', 'm3'].entries()) {
        const labels = { member, endpoint: `https://10.0.0.${k + 1}:2379`, learner: 'false' };
        const up = !(member === 'm3' && i >= 25);
        add('etcd_member_up', up ? 1 : 0, labels);
        if (!up) continue;
        add('etcd_member_is_leader', (i < 15 ? member === 'm1' : member === 'm2') ? 1 : 0, labels);
        add('etcd_member_has_leader', 1, labels);
        add('etcd_member_db_size_bytes', 50e6 + i * 1e6, labels);
        add('etcd_member_db_quota_bytes', 2 * 1024 ** 3, labels);
        add('etcd_member_raft_index', 1000 + i * 10, labels);
      }
    }
  }
  return out;
}

/** Nodes, pods, a deployment short of replicas and warning events, as the watchers write them. */
export function kubeRows(cluster: string, now: number): { objects: KubeObjectRow[]; events: KubeEventRow[] } {
  const objects: KubeObjectRow[] = [];
  const obj = (kind: string, o: KubeObject, ts: number, deleted = false) =>
    objects.push(toObjectRow(toKubeRecord(cluster, kind, o, deleted, ts)));
  const cond = (type: string, status: string, reason = '') => ({ type, status, reason, message: '', lastTransitionTime: new Date(now - 30 * MIN).toISOString() });
  obj('Node', { metadata: { name: 'node-a', uid: 'n-a', resourceVersion: '100' }, spec: {}, status: { conditions: [cond('Ready', 'True', 'KubeletReady'), cond('DiskPressure', 'False')] } }, now - 20 * MIN);
  obj('Node', { metadata: { name: 'node-b', uid: 'n-b', resourceVersion: '101' }, spec: { unschedulable: true }, status: { conditions: [cond('Ready', 'Unknown', 'NodeStatusUnknown'), cond('DiskPressure', 'True')] } }, now - 10 * MIN);
  // A node deleted since: not current.
  obj('Node', { metadata: { name: 'node-old', uid: 'n-old', resourceVersion: '50' }, status: { conditions: [cond('Ready', 'True')] } }, now - 50 * MIN);
  obj('Node', { metadata: { name: 'node-old', uid: 'n-old', resourceVersion: '60' }, status: { conditions: [cond('Ready', 'True')] } }, now - 40 * MIN, true);
  const pod = (rv: string, restarts: number, waiting: string | null, ts: number) =>
    obj(
      'Pod',
      {
        metadata: { name: 'api-7d9c5b7f6d-x2x4z', namespace: 'shop', uid: 'p-1', resourceVersion: rv, ownerReferences: [{ kind: 'ReplicaSet', name: 'api-7d9c5b7f6d', controller: true }] },
        spec: { nodeName: 'node-a' },
        status: {
          phase: 'Running',
          containerStatuses: [
            {
              name: 'api',
              ready: waiting === null,
              restartCount: restarts,
              state: waiting ? { waiting: { reason: waiting } } : { running: {} },
              lastState: restarts > 0 ? { terminated: { reason: 'OOMKilled', exitCode: 137 } } : {},
            },
          ],
        },
      },
      ts,
    );
  pod('200', 1, null, now - 40 * MIN);
  pod('210', 4, 'CrashLoopBackOff', now - 15 * MIN);
  pod('220', 6, 'CrashLoopBackOff', now - 5 * MIN);
  obj('Pod', { metadata: { name: 'web-0', namespace: 'shop', uid: 'p-2', resourceVersion: '230' }, spec: { nodeName: 'node-a' }, status: { phase: 'Running', containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: {} } }] } }, now - 30 * MIN);
  obj('Deployment', { metadata: { name: 'api', namespace: 'shop', uid: 'd-1', resourceVersion: '300', generation: 2 }, spec: { replicas: 3 }, status: { observedGeneration: 2, availableReplicas: 2, updatedReplicas: 3 } }, now - 5 * MIN);
  obj('Deployment', { metadata: { name: 'web', namespace: 'shop', uid: 'd-2', resourceVersion: '301' }, spec: {}, status: { availableReplicas: 1, updatedReplicas: 1 } }, now - 5 * MIN);
  obj('DaemonSet', { metadata: { name: 'node-exporter', namespace: 'monitoring', uid: 'ds-1', resourceVersion: '310' }, status: { desiredNumberScheduled: 2, numberAvailable: 1, updatedNumberScheduled: 2 } }, now - 5 * MIN);
  const events = [
    toKubeRecord(
      cluster,
      'Event',
      {
        metadata: { name: 'api.1', namespace: 'shop', uid: 'e-1', resourceVersion: '400' },
        type: 'Warning',
        reason: 'BackOff',
        message: 'Back-off restarting failed container api',
        count: 6,
        firstTimestamp: new Date(now - 15 * MIN).toISOString(),
        lastTimestamp: new Date(now - 5 * MIN).toISOString(),
        involvedObject: { kind: 'Pod', namespace: 'shop', name: 'api-7d9c5b7f6d-x2x4z', uid: 'p-1' },
        source: { component: 'kubelet' },
      },
      false,
      now - 5 * MIN,
    ),
    toKubeRecord(
      cluster,
      'Event',
      {
        metadata: { name: 'node-b.1', namespace: 'default', uid: 'e-2', resourceVersion: '401' },
        type: 'Normal',
        reason: 'NodeNotReady',
        message: 'Node node-b status is now: NodeNotReady',
        lastTimestamp: new Date(now - 10 * MIN).toISOString(),
        involvedObject: { kind: 'Node', name: 'node-b', uid: 'n-b' },
        source: { component: 'node-controller' },
      },
      false,
      now - 10 * MIN,
    ),
  ].map(toEventRow);
  return { objects, events };
}
