-- Exactly-once delivery: every entry names its story, every message lists the entries it
-- carries, and one ledger records each (chat, story) that reached a chat. Tables are
-- rebuilt where a CHECK changes (SQLite's twelve-step ALTER, https://sqlite.org/lang_altertable.html);
-- the migration runner turns foreign keys off around it and checks them after.

-- The story an entry tells: the same link from two feeds is one story (see story_key()).
ALTER TABLE entries ADD COLUMN story TEXT NOT NULL DEFAULT '';
UPDATE entries SET story = CASE WHEN link != '' THEN 'link:' || link
                                ELSE 'entry:' || feed_id || ':' || key END;
CREATE INDEX entries_by_story ON entries (story);

-- Chats: a chat the bot may no longer post in is paused ('no_rights'), not removed, and the
-- current or next quiet window is kept in UTC so routing can hold alerts the moment it opens.
CREATE TABLE chats_new (
    id              INTEGER PRIMARY KEY,
    kind            TEXT    NOT NULL CHECK (kind IN ('private', 'group', 'supergroup', 'channel')),
    title           TEXT    NOT NULL DEFAULT '',
    timezone        TEXT    NOT NULL,
    inactive_reason TEXT             CHECK (inactive_reason IN
                                            ('blocked', 'removed', 'not_found', 'no_rights')),
    inactive_since  REAL,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL,
    digest_enabled  INTEGER NOT NULL DEFAULT 0,
    digest_time     TEXT    NOT NULL DEFAULT '08:00',
    next_digest_at  REAL,
    last_digest_at  REAL,
    last_digest_day TEXT,
    quiet_start     TEXT,
    quiet_end       TEXT,
    muted_until     REAL,
    held_since      REAL,
    quiet_from      REAL,   -- the current or next quiet window, UTC, while quiet hours are set
    quiet_until     REAL
) STRICT;
INSERT INTO chats_new (id, kind, title, timezone, inactive_reason, inactive_since, created_at,
                       updated_at, digest_enabled, digest_time, next_digest_at, last_digest_at,
                       last_digest_day, quiet_start, quiet_end, muted_until, held_since)
SELECT id, kind, title, timezone, inactive_reason, inactive_since, created_at, updated_at,
       digest_enabled, digest_time, next_digest_at, last_digest_at, last_digest_day,
       quiet_start, quiet_end, muted_until, held_since
FROM chats;
DROP TABLE chats;
ALTER TABLE chats_new RENAME TO chats;
CREATE INDEX chats_active ON chats (id) WHERE inactive_reason IS NULL;
CREATE INDEX chats_digest_due ON chats (next_digest_at) WHERE digest_enabled = 1;
CREATE INDEX chats_holding ON chats (id)
    WHERE quiet_start IS NOT NULL OR muted_until IS NOT NULL OR held_since IS NOT NULL;

-- The outbox gains two waiting states: 'held' (an alert kept for a catch-up while quiet hours
-- or a mute last) and 'for_digest' (held past what one catch-up lists; the next digest shows
-- it), and 'in_digest' once a digest has. A message keeps its failures' start, so retries
-- are bounded in count and in time.
CREATE TABLE outbox_new (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    kind            TEXT    NOT NULL
                    CHECK (kind IN ('notice', 'breaking', 'alert', 'catchup', 'digest', 'broadcast')),
    priority        INTEGER NOT NULL,
    entry_id        INTEGER REFERENCES entries (id) ON DELETE CASCADE,
    topics          TEXT    NOT NULL DEFAULT '[]',
    text            TEXT,
    broadcast_id    INTEGER REFERENCES broadcasts (id) ON DELETE CASCADE,
    state           TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'held', 'for_digest', 'sent', 'in_digest',
                                     'blocked', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      REAL    NOT NULL,
    last_error      TEXT,
    first_failed_at REAL,               -- the first failed attempt of the current run
    failed_at       REAL,               -- when Herald gave up on it
    created_at      REAL    NOT NULL,
    sent_at         REAL,
    message_id      INTEGER
) STRICT;
INSERT INTO outbox_new (id, chat_id, kind, priority, entry_id, topics, text, broadcast_id, state,
                        attempts, not_before, last_error, created_at, sent_at, message_id)
SELECT id, chat_id, kind, priority, entry_id, topics, text, broadcast_id, state, attempts,
       not_before, last_error, created_at, sent_at, message_id
FROM outbox;
-- Alerts held under the old scheme become held outbox rows.
INSERT INTO outbox_new (chat_id, kind, priority, entry_id, topics, state, not_before, created_at)
SELECT chat_id, 'alert', 2, entry_id, topics, 'held', held_at, held_at FROM held_alerts;
DROP TABLE held_alerts;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;

-- The sender reads each chat's oldest due message.
CREATE INDEX outbox_pending ON outbox (chat_id, id) WHERE state = 'pending';
CREATE INDEX outbox_due ON outbox (not_before) WHERE state = 'pending';
CREATE INDEX outbox_waiting ON outbox (chat_id, state) WHERE state IN ('held', 'for_digest');
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE state = 'sent';
CREATE INDEX outbox_failed ON outbox (id) WHERE state = 'failed';
CREATE INDEX outbox_broadcast ON outbox (broadcast_id, state) WHERE broadcast_id IS NOT NULL;
-- Deleting an entry cascades here.
CREATE INDEX outbox_by_entry ON outbox (entry_id) WHERE entry_id IS NOT NULL;

-- The entries each message carries: one for an alert or a breaking push, several for a
-- catch-up or a digest. "Is this story on its way to this chat?" reads it.
CREATE TABLE outbox_items (
    outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    entry_id  INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    chat_id   INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    story     TEXT    NOT NULL,
    PRIMARY KEY (outbox_id, entry_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_items_by_story ON outbox_items (chat_id, story);
CREATE INDEX outbox_items_by_entry ON outbox_items (entry_id);

INSERT INTO outbox_items (outbox_id, entry_id, chat_id, story)
SELECT o.id, o.entry_id, o.chat_id, e.story FROM outbox AS o JOIN entries AS e ON e.id = o.entry_id;

-- A message naming one entry carries it, whichever path queued it.
CREATE TRIGGER outbox_carries_its_entry AFTER INSERT ON outbox WHEN new.entry_id IS NOT NULL
BEGIN
    INSERT OR IGNORE INTO outbox_items (outbox_id, entry_id, chat_id, story)
    SELECT new.id, new.entry_id, new.chat_id, story FROM entries WHERE id = new.entry_id;
END;

-- The delivery ledger: which story reached which chat, and how. 'push' is any message of its
-- own (alert, merged alert, catch-up, breaking push); 'digest' is a digest listing. Written in
-- the transaction that marks the message sent; rows live as long as their entry.
CREATE TABLE ledger (
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    story        TEXT    NOT NULL,
    channel      TEXT    NOT NULL CHECK (channel IN ('push', 'digest')),
    entry_id     INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    outbox_id    INTEGER,
    delivered_at REAL    NOT NULL,
    PRIMARY KEY (chat_id, story, channel)
) STRICT, WITHOUT ROWID;
CREATE INDEX ledger_by_entry ON ledger (entry_id);

INSERT OR IGNORE INTO ledger (chat_id, story, channel, entry_id, kind, outbox_id, delivered_at)
SELECT o.chat_id, e.story, 'push', o.entry_id, o.kind, o.id, COALESCE(o.sent_at, o.created_at)
FROM outbox AS o JOIN entries AS e ON e.id = o.entry_id WHERE o.state = 'sent';

-- Admins are told of messages given up on from now on, not of the history before.
INSERT OR REPLACE INTO meta (key, value)
SELECT 'failures_reported_through', COALESCE(MAX(id), 0) FROM outbox WHERE state = 'failed';
