-- Silences and maintenance windows. Each change (create, expire) appends a row with a higher
-- `version`; the current state is the row with the highest version per id.
CREATE TABLE IF NOT EXISTS silences
(
    id String,
    version UInt64,
    matchers String,
    starts_at DateTime64(3, 'UTC'),
    ends_at DateTime64(3, 'UTC'),
    comment String,
    created_by String,
    created_at DateTime64(3, 'UTC'),
    expired_by String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id;

CREATE TABLE IF NOT EXISTS maintenance_windows
(
    id String,
    version UInt64,
    cluster String,
    starts_at DateTime64(3, 'UTC'),
    ends_at DateTime64(3, 'UTC'),
    comment String,
    created_by String,
    created_at DateTime64(3, 'UTC'),
    expired_by String
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id
