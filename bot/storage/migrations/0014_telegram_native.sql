-- Alerts worth opening and settings changed by buttons, with Undo.

-- Link previews on single alerts: 'off', 'small' or 'large'; NULL takes the default for the
-- chat's kind (large in private chats, small in groups and channels).
ALTER TABLE chats ADD COLUMN link_preview TEXT CHECK (link_preview IN ('off', 'small', 'large'));

-- A silent topic's alerts arrive without a sound; a muted topic alerts nothing until then.
-- Topic ids are never reused (AUTOINCREMENT): an old alert's buttons and an Undo name
-- topics by id, and must never reach a topic added later.
CREATE TABLE topics_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    thread_id   INTEGER NOT NULL DEFAULT 0,
    query       TEXT    NOT NULL,
    canonical   TEXT    NOT NULL,
    mode        TEXT    NOT NULL DEFAULT 'instant' CHECK (mode IN ('instant', 'digest')),
    created_at  REAL    NOT NULL,
    silent      INTEGER NOT NULL DEFAULT 0,
    muted_until REAL,
    UNIQUE (chat_id, thread_id, canonical)
) STRICT;
INSERT INTO topics_new (id, chat_id, thread_id, query, canonical, mode, created_at)
SELECT id, chat_id, thread_id, query, canonical, mode, created_at FROM topics;
DROP TABLE topics;
ALTER TABLE topics_new RENAME TO topics;

-- An alert knows the topics that matched it (for its buttons) and whether it is silent
-- (every one of them is).
ALTER TABLE outbox ADD COLUMN topic_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE outbox ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;

-- What a button changed, kept for a minute so Undo can put it back: the chat's topics as
-- they were (JSON rows), including any the press removed; ``used`` once undone.
CREATE TABLE undo (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    topics     TEXT    NOT NULL,
    expires_at REAL    NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX undo_by_chat ON undo (chat_id);
