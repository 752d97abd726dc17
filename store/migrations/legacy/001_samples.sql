-- Legacy servers (before 19.11): no Map, no DateTime64, no TTL. Labels are JSON text, ts is ms.
CREATE TABLE IF NOT EXISTS samples
(
    cluster String,
    node String,
    name String,
    ts UInt64,
    value Float64,
    labels String,
    batch_id UInt64,
    day Date DEFAULT toDate(intDiv(ts, 1000))
)
ENGINE = MergeTree(day, (cluster, name, node, ts), 8192)
