// Makes sure the telemetry topic exists before anything is published or consumed, and reports how
// many partitions it really has (ownership hashes clusters over that number, not the configured one,
// when the topic was made by someone else).
import type { Admin } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConfig } from './config.ts';
import { MAX_PARTITIONS } from './message.ts';

// kafkajs's ConfigResourceTypes.TOPIC; the enum is not a named export Node's ESM loader can see in
// this CommonJS package, and the protocol value is fixed.
const TOPIC_RESOURCE = 2;

export async function ensureTopic(admin: Admin, config: KafkaConfig, maxMessageBytes: number, log: Logger): Promise<number> {
  const existing = await admin.listTopics();
  if (!existing.includes(config.topic)) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic: config.topic,
          numPartitions: config.partitions,
          replicationFactor: config.replicationFactor ?? -1,
          // One message is one agent request, up to server.bodyLimitBytes of JSON and somewhat more
          // once encoded; Kafka's default limit is 1 MB per record batch.
          configEntries: [{ name: 'max.message.bytes', value: String(maxMessageBytes) }],
        },
      ],
    });
    log.info({ topic: config.topic, partitions: config.partitions }, 'created the telemetry topic');
  }
  const meta = await admin.fetchTopicMetadata({ topics: [config.topic] });
  const partitions = meta.topics[0]?.partitions.length ?? 0;
  if (partitions === 0) throw new Error(`topic ${config.topic} has no partitions`);
  if (partitions > MAX_PARTITIONS) throw new Error(`topic ${config.topic} has ${partitions} partitions; Whistle supports at most ${MAX_PARTITIONS}`);
  if (partitions !== config.partitions) log.warn({ topic: config.topic, partitions, configured: config.partitions }, 'the topic has a different partition count than configured; using the topic\'s');
  try {
    const described = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC_RESOURCE, name: config.topic, configNames: ['max.message.bytes'] }] });
    const value = Number(described.resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue);
    if (Number.isFinite(value) && value < maxMessageBytes) {
      log.warn({ topic: config.topic, maxMessageBytes: value, wanted: maxMessageBytes }, 'the topic accepts smaller messages than one full agent batch; large batches will be refused (503)');
    }
  } catch (err) {
    log.debug({ err: (err as Error).message }, 'could not read the topic configuration');
  }
  return partitions;
}
