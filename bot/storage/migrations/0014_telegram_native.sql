-- Alerts worth opening and settings changed by buttons, with Undo.

-- Link previews on single alerts: 'off', 'small' or 'large'; NULL takes the default for the
-- chat's kind (large in private chats, small in groups and channels).
ALTER TABLE chats ADD COLUMN link_preview TEXT CHECK (link_preview IN ('off', 'small', 'large'));

-- A silent topic's alerts arrive without a sound; a muted topic alerts nothing until then.
ALTER TABLE topics ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE topics ADD COLUMN muted_until REAL;

-- An alert knows the topics that matched it (for its buttons) and whether it is silent
-- (every one of them is).
ALTER TABLE outbox ADD COLUMN topic_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE outbox ADD COLUMN silent INTEGER NOT NULL DEFAULT 0;

-- What a button changed, kept for a minute so Undo can put it back: the chat's topics as
-- they were (JSON rows), including any the press removed.
CREATE TABLE undo (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    topics     TEXT    NOT NULL,
    expires_at REAL    NOT NULL
) STRICT;
CREATE INDEX undo_by_chat ON undo (chat_id);
