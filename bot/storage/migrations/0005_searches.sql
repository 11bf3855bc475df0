-- Searches and /latest listings kept server-side, so a Next or More button needs only an id
-- (Telegram allows 64 bytes of callback data). Pruned after a few days.
CREATE TABLE searches (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    query      TEXT    NOT NULL,
    created_at REAL    NOT NULL
) STRICT;

CREATE INDEX searches_by_chat ON searches (chat_id);
