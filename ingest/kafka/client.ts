// One kafkajs client per Whistle process, logging through Whistle's logger (kafkajs's own logger
// writes JSON to stdout). kafkajs logs every reconnect attempt as an error; they are warnings here:
// an unreachable broker is an expected state that the producer (503) and consumer (retry) handle.
import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';
import type { KafkaConfig } from './config.ts';

export function createKafka(config: KafkaConfig, log: Logger): Kafka {
  const logCreator = () => (entry: LogEntry) => {
    const { message, ...rest } = entry.log;
    const fields = { kafka: entry.namespace, ...rest };
    // Error responses (coordinator loading, leader moved) are retried by kafkajs; and the retry
    // limit notice is expected: after a failed send the producer is replaced, not retried.
    const routine = /^Response |^Limiting retries for the idempotent producer/.test(String(message));
    if (entry.level <= logLevel.WARN && !routine) log.warn(fields, message);
    else log.debug(fields, message);
  };
  return new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: logLevel.WARN,
    logCreator,
    connectionTimeout: 3000,
    requestTimeout: Math.max(5000, config.publishTimeoutMs),
    // The consumer retries forever on its own (see consumer.ts); these bound one operation.
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 5 },
  });
}
