-- Remediation and bootstrap steps, recorded before and after (Action in core/types.ts). Append-only:
-- each state change of an action is a new row with the same id; the latest row is its state.
CREATE TABLE IF NOT EXISTS actions
(
    ts DateTime64(3, 'UTC'),
    id String,
    incident_id String,
    cluster LowCardinality(String),
    subject String,
    kind LowCardinality(String),
    state LowCardinality(String),
    reason String,
    dry_run UInt8,
    actor String,
    detail String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (cluster, ts, id)
