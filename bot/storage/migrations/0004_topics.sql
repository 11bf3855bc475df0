-- The topics each chat follows. `query` is the text as the person wrote it (tidied);
-- `canonical` is the same for every spelling of one query, so a chat can't follow it twice.
CREATE TABLE topics (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    query      TEXT    NOT NULL,
    canonical  TEXT    NOT NULL,
    mode       TEXT    NOT NULL DEFAULT 'instant' CHECK (mode IN ('instant', 'digest')),
    created_at REAL    NOT NULL,
    UNIQUE (chat_id, canonical)
) STRICT;
