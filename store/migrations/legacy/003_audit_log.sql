CREATE TABLE IF NOT EXISTS audit_log
(
    ts UInt64,
    actor String,
    action String,
    cluster String,
    subject String,
    detail String,
    day Date DEFAULT toDate(intDiv(ts, 1000))
)
ENGINE = MergeTree(day, (ts), 8192)
