// A batch resent after a lost answer, with the worker that read the first copy gone in between:
// the plane restarts, the agent sends the same batch again (an older agent, without the
// x-whistle-batch tag that the front end would recognise), and the restarted worker drops the
// copy because it seeded its resend window from the fingerprints the first run stored.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type KafkaBroker } from '../harness/kafka/kafka.ts';
import { eventually } from '../helpers/whistle.ts';
import { batch, duplicates, startKafkaWhistle, storeSummary, type KafkaWhistle } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'whistle-kafka-resend-'));
let broker: KafkaBroker;
let w: KafkaWhistle | undefined;

beforeAll(async () => {
  broker = await startKafka();
}, 120_000);

afterAll(async () => {
  await w?.stop();
  await broker?.destroy();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const skipped = async (k: KafkaWhistle) => Number(/^whistle_kafka_skipped_duplicate_messages_total (\d+)/m.exec(await (await fetch(`${k.url}/metrics`)).text())?.[1] ?? 0);

describe('a resend across a restart of the Kafka worker', () => {
  it('is stored once', async () => {
    w = await startKafkaWhistle(broker.brokers, {}, {}, { dir });
    const token = await w.addNode('n1', 'c1');
    const b = batch('c1', 'n1', 200);
    expect((await w.post('/v1/telemetry', b, token)).status).toBe(202);
    await eventually(async () => ((await storeSummary(w!.whistle.store)).rows === 200 ? true : null), 'the first copy stored');
    // The offset is committed just after the rows are queryable: stop only once it is, so that the
    // restarted worker reads the copy and not the first message again.
    await eventually(async () => (w!.consumer.committedMessages === 1 ? true : null), 'the first copy committed');

    await w.stop({ keepDir: true });
    w = await startKafkaWhistle(broker.brokers, {}, {}, { dir });
    // The same batch again: its answer was lost as far as the agent knows.
    expect((await w.post('/v1/telemetry', b, token)).status).toBe(202);
    // The restarted worker reads the copy, recognises it and commits past it.
    await eventually(async () => ((await skipped(w!)) >= 1 ? true : null), 'the resent copy recognised');
    await eventually(async () => (w!.consumer.committedMessages >= 1 ? true : null), 'the copy committed past');
    const s = await storeSummary(w.whistle.store);
    expect(s).toEqual({ rows: 200, distinct: 200, kafkaRows: 200 });
    expect(await duplicates(w.whistle.store)).toBe(0);
  });
});
