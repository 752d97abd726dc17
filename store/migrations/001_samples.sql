-- Agent telemetry. One row per sample; `ts` in milliseconds. Partitioned by day so retention drops
-- whole parts, ordered for the detectors' typical read: one cluster, one metric, per node, over time.
CREATE TABLE IF NOT EXISTS samples
(
    cluster LowCardinality(String),
    node LowCardinality(String),
    name LowCardinality(String),
    ts DateTime64(3, 'UTC'),
    value Float64,
    labels Map(LowCardinality(String), String),
    -- The ingest request the row came with: lets a replayed batch check whether an insert whose
    -- answer was lost did land, so an outage never duplicates rows.
    batch_id UInt64 CODEC(Delta, ZSTD(1))
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (cluster, name, node, ts)
TTL toDateTime(ts) + INTERVAL {{retention_days}} DAY
