-- Kubernetes objects as the watchers saw them: one row per (uid, resource_version). The current
-- state of an object is its row with the highest resource_version (see ingest/kube/state-reader.ts),
-- `deleted` rows close an object's history. ReplacingMergeTree folds the duplicates a relist or a
-- restarted watcher writes. No TTL: an object unchanged for longer than the retention is still current.
CREATE TABLE IF NOT EXISTS kube_objects
(
    cluster LowCardinality(String),
    kind LowCardinality(String),
    namespace String,
    name String,
    uid String,
    resource_version String,
    rv UInt64 MATERIALIZED toUInt64OrZero(resource_version),
    deleted Bool,
    ts DateTime64(3, 'UTC'),
    object String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
ORDER BY (cluster, kind, uid, resource_version);

-- Kubernetes Events (core/v1), flattened for the detectors and the incident timeline.
CREATE TABLE IF NOT EXISTS kube_events
(
    cluster LowCardinality(String),
    namespace String,
    name String,
    uid String,
    resource_version String,
    type LowCardinality(String),
    reason LowCardinality(String),
    message String,
    involved_kind LowCardinality(String),
    involved_namespace String,
    involved_name String,
    involved_uid String,
    count UInt32,
    first_ts DateTime64(3, 'UTC'),
    last_ts DateTime64(3, 'UTC'),
    source String,
    ts DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMMDD(ts)
ORDER BY (cluster, involved_kind, involved_namespace, involved_name, uid, resource_version)
TTL toDateTime(ts) + INTERVAL {{retention_days}} DAY;
