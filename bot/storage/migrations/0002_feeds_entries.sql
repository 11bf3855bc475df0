-- Feeds Herald polls, with what polite polling and /feeds need to know.
CREATE TABLE feeds (
    id                   INTEGER PRIMARY KEY,
    url                  TEXT    NOT NULL UNIQUE,
    title                TEXT    NOT NULL DEFAULT '',
    etag                 TEXT,
    last_modified        TEXT,
    content_hash         TEXT,                       -- of the last body, to skip re-parsing it
    next_poll_at         REAL    NOT NULL,
    last_polled_at       REAL,
    last_success_at      REAL,
    last_error           TEXT,
    last_error_at        REAL,
    failing_since        REAL,                       -- first failure of the current run
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    failure_notified     INTEGER NOT NULL DEFAULT 0, -- admins told about the current run
    polls                INTEGER NOT NULL DEFAULT 0,
    polls_not_modified   INTEGER NOT NULL DEFAULT 0,
    baseline_done        INTEGER NOT NULL DEFAULT 0, -- the first successful poll is stored
    created_at           REAL    NOT NULL
) STRICT;

CREATE INDEX feeds_due ON feeds (next_poll_at);

-- One row per (feed, key): a re-listed entry is the same row, an edited one is updated.
CREATE TABLE entries (
    id            INTEGER PRIMARY KEY,
    feed_id       INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    key           TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    summary       TEXT    NOT NULL,
    link          TEXT    NOT NULL,
    author        TEXT    NOT NULL,
    published_at  REAL    NOT NULL,  -- the feed's date, or first_seen_at when it gave none
    first_seen_at REAL    NOT NULL,
    updated_at    REAL    NOT NULL,
    routed        INTEGER NOT NULL,  -- 0 while waiting to be matched against topics
    UNIQUE (feed_id, key)
) STRICT;

CREATE INDEX entries_by_time ON entries (published_at DESC, id DESC);
CREATE INDEX entries_unrouted ON entries (published_at, id) WHERE routed = 0;

-- Keys of pruned entries, so a feed that still lists one doesn't make it new again.
CREATE TABLE pruned_keys (
    feed_id   INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE,
    key       TEXT    NOT NULL,
    pruned_at REAL    NOT NULL,
    PRIMARY KEY (feed_id, key)
) STRICT, WITHOUT ROWID;

-- Full-text index over title and summary, kept in step with entries by triggers.
-- porter wraps unicode61 so searches match English inflections (sanction, sanctions,
-- sanctioned) as topics do; remove_diacritics 2 folds accents (Zelénsky = Zelensky).
CREATE VIRTUAL TABLE entries_fts USING fts5 (
    title,
    summary,
    content = 'entries',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts (rowid, title, summary) VALUES (new.id, new.title, new.summary);
END;

CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, title, summary)
    VALUES ('delete', old.id, old.title, old.summary);
END;

CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, summary ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, title, summary)
    VALUES ('delete', old.id, old.title, old.summary);
    INSERT INTO entries_fts (rowid, title, summary) VALUES (new.id, new.title, new.summary);
END;
