-- The notification outbox: one row per notification decided, keyed so the same notification is
-- never enqueued twice (`key` is deterministic: incident, channel, what, when).
CREATE TABLE IF NOT EXISTS notify_outbox
(
    ts DateTime64(3, 'UTC'),
    key String,
    channel LowCardinality(String),
    incident_id String,
    kind LowCardinality(String),
    payload String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (incident_id, key);

-- Delivery attempts and their outcome. An outbox row is pending until a `delivered` row with its key
-- exists. `ref` is what the channel needs to update the same message later (Slack ts, Jira key).
CREATE TABLE IF NOT EXISTS notify_log
(
    ts DateTime64(3, 'UTC'),
    key String,
    channel LowCardinality(String),
    incident_id String,
    kind LowCardinality(String),
    status LowCardinality(String),
    attempt UInt32,
    ref String,
    error String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(ts)
ORDER BY (incident_id, ts);

-- One ticket per incident: the intent is recorded before the ticket is created (with the
-- idempotency label used to find it again) and the key after.
CREATE TABLE IF NOT EXISTS tickets
(
    ts DateTime64(3, 'UTC'),
    incident_id String,
    channel LowCardinality(String),
    label String,
    ticket_key String,
    status LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY (incident_id, ts)
