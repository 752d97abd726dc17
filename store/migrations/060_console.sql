-- The support console (console/): operators who sign in with a name and password, and the
-- sessions they hold. Each change appends a row; the current state of an operator or a session is
-- the row with the highest `version`. Only hashes are stored: the password as scrypt, the session
-- id as SHA-256 (the cookie carries the id itself).
CREATE TABLE IF NOT EXISTS console_operators
(
    name String,
    password_hash String,
    removed UInt8,
    updated_at DateTime64(3, 'UTC'),
    updated_by String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY name;

CREATE TABLE IF NOT EXISTS console_sessions
(
    id_hash String,
    operator String,
    via LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    expires_at DateTime64(3, 'UTC'),
    ended UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY id_hash
TTL toDateTime(expires_at) + INTERVAL 7 DAY
