-- The incident log: every transition of every incident, append-only. The current state of an
-- incident is its row with the highest `seq` that carries a snapshot (`snapshot != ''`); rows
-- without one are history entries (remediator actions, deliveries, notes).
CREATE TABLE IF NOT EXISTS incident_log
(
    ts DateTime64(3, 'UTC'),
    incident_id String,
    seq UInt32,
    fingerprint String,
    cluster LowCardinality(String),
    detector LowCardinality(String),
    subject String,
    severity LowCardinality(String),
    state LowCardinality(String),
    kind LowCardinality(String),
    reason String,
    actor String,
    detail String,
    snapshot String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (incident_id, seq);

-- Findings attached to incidents: the first one and each one that changes what is said (severity,
-- summary), not every tick's repeat.
CREATE TABLE IF NOT EXISTS incident_findings
(
    ts DateTime64(3, 'UTC'),
    incident_id String,
    fingerprint String,
    severity LowCardinality(String),
    summary String,
    finding String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (incident_id, ts)
