-- Who did what through the operator API (node authorization, proxy reads, approvals, silences).
CREATE TABLE IF NOT EXISTS audit_log
(
    ts DateTime64(3, 'UTC'),
    actor String,
    action LowCardinality(String),
    cluster String,
    subject String,
    detail String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (ts)
