-- Plans that need a person: proposed with the exact steps, then approved (or rejected) and executed.
-- Append-only; a plan's state is its latest row.
CREATE TABLE IF NOT EXISTS remediation_plans
(
    ts DateTime64(3, 'UTC'),
    id String,
    incident_id String,
    cluster LowCardinality(String),
    kind LowCardinality(String),
    state LowCardinality(String),
    actor String,
    reason String,
    plan String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (id, ts)
