-- The fleet: clusters as objects (created through the API, or seeded from clusters[] in the
-- config), the fleet join token that brings agents into the node pool, and each node's zone and
-- place (the cluster it is attached to, its role). Each change appends a row; the row with the
-- highest `version` holds (ReplacingMergeTree collapses old ones in the background).
-- Secrets: only hashes of join tokens; a kubeconfig given through the API is sealed (AES-256-GCM)
-- with a key kept outside the store (<dataDir>/secrets/cluster-secrets.key), see core/clusters/.
CREATE TABLE IF NOT EXISTS clusters
(
    name String,
    deleted UInt8,
    source LowCardinality(String),
    join_token_hash String,
    token_rotated_at DateTime64(3, 'UTC'),
    kubeconfig_path String,
    kubeconfig_sealed String,
    kube_context String,
    client_port UInt16,
    peer_port UInt16,
    created_at DateTime64(3, 'UTC'),
    created_by String,
    updated_at DateTime64(3, 'UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY name;

CREATE TABLE IF NOT EXISTS fleet_join_tokens
(
    scope String,
    token_hash String,
    created_at DateTime64(3, 'UTC'),
    created_by String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY scope;

ALTER TABLE nodes ADD COLUMN IF NOT EXISTS zone String DEFAULT '';
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS attached_to String DEFAULT '';
ALTER TABLE nodes ADD COLUMN IF NOT EXISTS role LowCardinality(String) DEFAULT ''
