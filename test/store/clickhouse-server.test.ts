// The @clickhouse/client path against a real ClickHouse server process (Debian's 18.16): connect,
// auth, schema, insert, parameterised query, and an outage in the middle of a stream of telemetry
// that loses no accepted sample and duplicates none.
import { ingestServices } from '../../ingest/services.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '../../store/clickhouse-store.ts';
import { migrate } from '../../store/migrate.ts';
import { StoreUnavailableError } from '../../core/errors.ts';
import { startClickHouseServer, type ClickHouseServer } from '../harness/clickhouse-server.ts';
import { eventually, startTestWhistle } from '../helpers/whistle.ts';

let ch: ClickHouseServer;

beforeAll(async () => {
  ch = await startClickHouseServer();
}, 60_000);
afterAll(async () => ch?.destroy());

const opts = () => ({ url: ch.url, username: ch.username, password: ch.password, database: 'whistle_client', requestTimeoutMs: 10_000 });

describe('ClickHouseStore on a real server', () => {
  it('refuses a wrong password with the server\'s reason', async () => {
    await expect(ClickHouseStore.connect({ ...opts(), password: 'wrong' })).rejects.toThrow(/password|Authentication/i);
  });

  it('migrates, inserts and reads back with bound parameters, storing hostile strings verbatim', async () => {
    const store = await ClickHouseStore.connect(opts());
    try {
      await migrate(store, { retentionDays: 7 });
      await migrate(store, { retentionDays: 7 }); // idempotent
      const hostile = `a'b\\c"d'); DROP TABLE samples; --`;
      await store.insert('samples', [{ cluster: 'c', node: hostile, name: 'm', ts: Date.now(), value: 2.5, labels: { k: hostile } }]);
      const rows = await store.query<{ node: string; value: number; labels: string }>('SELECT node, value, labels FROM samples WHERE node = {node:String}', {
        node: hostile,
      });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.node).toBe(hostile);
      expect(JSON.parse(rows[0]!.labels)).toEqual({ k: hostile });
      const migrations = await store.query<{ c: string }>('SELECT count() AS c FROM schema_migrations');
      expect(Number(migrations[0]!.c)).toBeGreaterThanOrEqual(3);
    } finally {
      await store.close();
    }
  });

  it('reports an outage as StoreUnavailableError and works again after the server returns', async () => {
    const store = await ClickHouseStore.connect(opts());
    try {
      await ch.stop();
      expect(await store.ping()).toBe(false);
      await expect(store.query('SELECT 1')).rejects.toBeInstanceOf(StoreUnavailableError);
      await ch.start();
      await eventually(() => store.ping(), 'ping after restart');
      expect(await store.query<{ x: number }>('SELECT 1 AS x')).toEqual([{ x: 1 }]);
    } finally {
      await store.close();
    }
  });
});

describe('ingest through Whistle onto the ClickHouse server, with the server killed mid-stream', () => {
  it('loses no accepted sample and duplicates none', async () => {
    const t = await startTestWhistle({
      store: { kind: 'clickhouse', url: ch.url, username: ch.username, password: ch.password, database: 'whistle_outage' },
      writer: { batchSize: 500, flushIntervalMs: 50, retryInitialMs: 50, retryMaxMs: 500 },
    });
    try {
      const token = await t.addNode('outage-node');
      let accepted = 0;
      let seq = 0;
      const send = async () => {
        const samples = Array.from({ length: 100 }, () => ({ name: 'seq', value: seq++, ts: Date.now(), labels: { q: `'"\\` } }));
        const res = await t.post('/v1/telemetry', { cluster: 'c1', node: 'outage-node', samples }, token);
        if (res.status === 202) accepted += 100;
        else seq -= 100; // refused batches are the agent's to resend; not counted as accepted
      };
      for (let i = 0; i < 20; i++) await send();
      await ch.stop(); // the store goes away mid-stream
      for (let i = 0; i < 30; i++) await send();
      await eventually(async () => t.whistle.service(ingestServices.samplesWriter).spooled > 0, 'batches spooled while the server is down');
      await ch.start();
      for (let i = 0; i < 20; i++) await send();
      expect(accepted).toBe(7000);
      expect(await t.whistle.service(ingestServices.samplesWriter).drained(60_000)).toBe(true);
      const rows = await t.whistle.store.query<{ c: string; u: string; mn: number; mx: number }>(
        "SELECT count() AS c, uniqExact(value) AS u, min(value) AS mn, max(value) AS mx FROM samples WHERE node = 'outage-node'",
      );
      expect(Number(rows[0]!.c)).toBe(accepted);
      expect(Number(rows[0]!.u)).toBe(accepted);
      expect([rows[0]!.mn, rows[0]!.mx]).toEqual([0, accepted - 1]);
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/whistle_store_errors_total\{op="insert"\} [1-9]/);
    } finally {
      await t.stop();
    }
  });
});
