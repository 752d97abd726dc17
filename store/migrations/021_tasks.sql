-- Work sent to node agents (allow-listed kinds) and its results. Append-only: queued, dispatched,
-- then succeeded / failed / expired, each a row with the same id.
CREATE TABLE IF NOT EXISTS agent_tasks
(
    ts DateTime64(3, 'UTC'),
    id String,
    cluster LowCardinality(String),
    node String,
    kind LowCardinality(String),
    state LowCardinality(String),
    params String,
    output String,
    error String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (cluster, node, ts, id)
