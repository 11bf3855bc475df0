-- Work several Herald processes on one database share: a named lease is taken by one
-- process until a moment, so a scheduled job runs once across processes (one process on
-- SQLite always takes it). The webhook's update ids taken, so an update Telegram sends again
-- is handled once whichever process it reaches.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,  -- "host:pid:nonce" of the process holding it
    until  REAL NOT NULL   -- epoch seconds; free from then on
) STRICT;
CREATE TABLE updates_taken (
    update_id INTEGER PRIMARY KEY,
    taken_at  REAL NOT NULL  -- epoch seconds
) STRICT;
CREATE INDEX updates_taken_at ON updates_taken (taken_at);
