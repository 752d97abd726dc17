CREATE TABLE IF NOT EXISTS nodes
(
    cluster String,
    node String,
    status String,
    token_hash String,
    registered_at UInt64,
    updated_at UInt64,
    updated_by String,
    address String,
    agent_version String,
    version UInt64,
    day Date DEFAULT today()
)
ENGINE = ReplacingMergeTree(day, (cluster, node), 8192, version)
