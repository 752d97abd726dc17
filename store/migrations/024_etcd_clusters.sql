-- The etcd clusters Whistle manages, as configured (etcd.clusters[]): the desired state that the
-- etcd-quorum detector (and dashboards) judge the reported one against. The bootstrap stage appends
-- a row per cluster at each start, and members = 0 for a cluster no longer configured; the latest
-- row per cluster holds.
CREATE TABLE IF NOT EXISTS etcd_clusters
(
    ts DateTime64(3, 'UTC'),
    cluster LowCardinality(String),
    members UInt16,
    nodes String
)
ENGINE = MergeTree
ORDER BY (cluster, ts)
