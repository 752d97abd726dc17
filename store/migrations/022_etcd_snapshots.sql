-- etcd snapshots: each save (with its verified status) and each deletion by retention.
CREATE TABLE IF NOT EXISTS etcd_snapshots
(
    ts DateTime64(3, 'UTC'),
    cluster LowCardinality(String),
    node String,
    file String,
    state LowCardinality(String),
    revision UInt64,
    total_keys UInt64,
    size_bytes UInt64,
    hash UInt64,
    error String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (cluster, ts, file)
