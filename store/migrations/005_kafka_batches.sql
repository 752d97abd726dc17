-- The fingerprints of the telemetry messages the Kafka workers wrote, per partition: a worker that
-- takes a partition over (a restart, a rebalance) reads the recent ones back, so a batch an agent
-- resends after a lost answer is recognised by whoever owns the partition now. Kept a day.
CREATE TABLE IF NOT EXISTS kafka_batches
(
    ts DateTime64(3, 'UTC'),
    partition UInt32,
    offset UInt64,
    fingerprint String
)
ENGINE = MergeTree
ORDER BY (partition, ts)
TTL toDateTime(ts) + INTERVAL 1 DAY
