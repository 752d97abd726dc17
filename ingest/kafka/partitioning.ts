// Which partition a cluster's telemetry goes to. The producer sets the partition explicitly with
// this function and the consumer uses the same one to say which clusters it owns, so both sides
// agree by construction. It is Kafka's own default (murmur2 of the key, as the Java client does),
// so other tools that produce with key = cluster land on the same partition.
import { Partitioners } from 'kafkajs';

const murmur = Partitioners.DefaultPartitioner();

export function partitionOf(cluster: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [], isr: [] }));
  return murmur({ topic: '', partitionMetadata, message: { key: cluster, value: null } });
}
