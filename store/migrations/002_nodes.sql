-- Registered node agents. Each change appends a row; the current state of a node is the row with
-- the highest `version` (ReplacingMergeTree collapses old ones in the background).
CREATE TABLE IF NOT EXISTS nodes
(
    cluster LowCardinality(String),
    node String,
    status LowCardinality(String),
    token_hash String,
    registered_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC'),
    updated_by String,
    address String,
    agent_version String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (cluster, node)
