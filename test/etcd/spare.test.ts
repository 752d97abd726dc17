// A whole node dies (agent and member): the member is replaced by a spare node from the pool, and
// etcd-quorum, which judges against the desired member count, is quiet afterwards although the
// removed member's reports are still in its window. Then a node dies whose agent still looks alive
// to the plane (its poll lingers): it is not chosen for a reset; the other spare joins. Also drives
// the CLI commands (`whistle etcd info`, `--dry-run`, `whistle approve`) against the API.
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { approveCommand } from '../../cli/commands/approve.ts';
import { etcdCommand } from '../../cli/commands/etcd.ts';
import { detectorServices } from '../../detectors/services.ts';
import { EtcdHarness, OPERATOR_TOKEN } from './harness.ts';
import { eventually } from './poll.ts';

const h = new EtcdHarness({ subnet: 65, members: 3, spares: 2, telemetryMs: 500 });

beforeAll(async () => {
  await h.start();
  await h.bootstrap();
}, 120_000);

afterAll(async () => {
  await h.close();
});

async function cli(cmd: () => import('commander').Command, args: string[]): Promise<string> {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  try {
    await cmd().exitOverride().parseAsync(['node', 'whistle', ...args, '--server', h.url, '--token', OPERATOR_TOKEN]);
  } finally {
    spy.mockRestore();
  }
  return out.join('\n');
}

describe('etcd: node lost, spare joins; CLI', () => {
  it('CLI prints info, plans with --dry-run and changes nothing', async () => {
    const info = await cli(etcdCommand, ['info', h.cluster]);
    expect(info).toMatch(/quorum, leader n\d/);
    expect(info).toMatch(/n4\s+127\.0\.65\.4\s+spare\s+up/);
    const dry = await cli(etcdCommand, ['join', h.cluster, 'n4', '--dry-run']);
    expect(dry).toContain('plan: etcd join on etcd-test: add n4 (https://127.0.65.4:2380)');
    expect(dry).toContain('etcd.member-add --learner https://127.0.65.4:2380');
    expect(dry).toContain('dry run: nothing changed');
    const snap = await cli(etcdCommand, ['snapshot', h.cluster]);
    expect(snap).toContain('done: snapshot etcd-test');
    expect(await cli(approveCommand, [])).toBe('no plans awaiting approval');
    const after = await h.engine.info(h.cluster);
    expect(after.members.map((m) => m.name).sort()).toEqual(['n1', 'n2', 'n3']);
  });

  async function healthyAs(names: string): Promise<void> {
    await eventually(
      `${names} healthy`,
      async () => {
        const info = await h.engine.info(h.cluster);
        const now = info.members.map((m) => m.name).sort().join(',');
        return info.quorum && now === names && info.members.every((m) => m.healthy && !m.isLearner) ? info : null;
      },
      90_000,
      500,
    );
  }

  /** Resolves after `n` more detector ticks have run. */
  function ticks(n: number): Promise<void> {
    const engine = h.whistle.service(detectorServices.engine);
    return new Promise((resolve) => {
      const on = () => {
        if (--n > 0) return;
        engine.onTick.splice(engine.onTick.indexOf(on), 1);
        resolve();
      };
      engine.onTick.push(on);
    });
  }

  it('replaces a dead node with the spare', async () => {
    const client = new Etcd3({ hosts: h.endpoints().slice(0, 3), credentials: h.credentials(0) });
    for (let i = 0; i < 20; i++) await client.put(`k/${i}`).value(String(i));
    await eventually('a quiet start', async () => (await h.incidentList()).every((i) => i.state === 'resolved'), 30_000);
    const killedAt = Date.now();
    await h.killNode(1);
    await healthyAs('n1,n3,n4');
    const n4 = new Etcd3({ hosts: 'https://127.0.65.4:2379', credentials: h.credentials(3) });
    expect(await n4.get('k/19').string()).toBe('19');
    n4.close();
    client.close();
    const actions = await eventually('the replacement recorded', async () => {
      const list = await h.recorder.list({ cluster: h.cluster });
      return list.some((a) => a.kind === 'etcd.member-replace' && a.state === 'succeeded') ? list : null;
    }, 30_000);
    // The dead node was removed, never reset (its agent is gone): the spare joined instead.
    expect(actions.some((a) => a.kind === 'etcd.remove' && a.subject === 'n2' && a.state === 'succeeded')).toBe(true);
    expect(actions.some((a) => a.kind === 'etcd.join' && a.subject === 'n4' && a.state === 'succeeded')).toBe(true);
    expect(actions.some((a) => a.kind === 'etcd.reset' && a.subject === 'n2')).toBe(false);
    // Healed means quiet: n2's last reports are still within the detector's window, but 3 of the
    // 3 desired members are healthy, so the incident stays resolved.
    await eventually('the incident resolved', async () => (await h.incidentList()).filter((i) => i.updatedAt >= killedAt).every((i) => i.state === 'resolved'), 30_000);
    await ticks(6);
    expect(h.whistle.service(detectorServices.findings).list({ cluster: h.cluster, detector: 'etcd-quorum' })).toEqual([]);
    expect((await h.incidentList()).filter((i) => i.state !== 'resolved')).toEqual([]);
  }, 180_000);

  it('a dead node whose agent still seems to poll is not reset; the other spare joins', async () => {
    await h.killNodeLeavingPoll(2);
    await healthyAs('n1,n4,n5');
    const actions = await eventually('the second replacement recorded', async () => {
      const list = await h.recorder.list({ cluster: h.cluster });
      return list.filter((a) => a.kind === 'etcd.member-replace' && a.state === 'succeeded').length === 2 ? list : null;
    }, 30_000);
    expect(actions.some((a) => a.kind === 'etcd.join' && a.subject === 'n5' && a.state === 'succeeded')).toBe(true);
    expect(actions.some((a) => a.kind === 'etcd.reset' && a.subject === 'n3')).toBe(false);
  }, 180_000);
});
