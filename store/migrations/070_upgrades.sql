-- The upgrade engine (bootstrap/upgrade/). Every change appends a row with a higher `version`; the
-- current state of an id is its row with the highest version, so a rollout killed mid-way is
-- rebuilt from here at the next start.

-- Recurring maintenance windows added through the API (those in the config file are not stored).
CREATE TABLE IF NOT EXISTS upgrade_windows
(
    id String,
    version UInt64,
    cluster String,
    days String,
    start_time String,
    end_time String,
    time_zone String,
    comment String,
    created_by String,
    created_at DateTime64(3, 'UTC'),
    deleted UInt8
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- One rollout of a release to a cluster: its state, the plan it follows, why it stopped.
CREATE TABLE IF NOT EXISTS upgrade_rollouts
(
    id String,
    version UInt64,
    cluster String,
    release String,
    from_release String,
    state LowCardinality(String),
    reason String,
    plan String,
    created_by String,
    created_at DateTime64(3, 'UTC'),
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

-- Each node of a rollout: the last phase it reached (pending, cordoned, drained, installed, ready,
-- uncordoned, soaking, done, failed), so a restart continues from there and never drains twice.
CREATE TABLE IF NOT EXISTS upgrade_rollout_nodes
(
    rollout_id String,
    node String,
    version UInt64,
    phase LowCardinality(String),
    reason String,
    detail String,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (rollout_id, node);

-- The release each cluster runs, recorded when a rollout of it finishes.
CREATE TABLE IF NOT EXISTS upgrade_cluster_releases
(
    cluster String,
    version UInt64,
    release String,
    rollout_id String,
    updated_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY cluster;
