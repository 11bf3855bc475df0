-- Admin broadcasts: the draft an admin previews, then the fan-out it becomes.
CREATE TABLE broadcasts (
    id                  INTEGER PRIMARY KEY,
    admin_chat_id       INTEGER NOT NULL,
    text                TEXT    NOT NULL,
    state               TEXT    NOT NULL DEFAULT 'draft'
                        CHECK (state IN ('draft', 'sending', 'done', 'cancelled')),
    audience            INTEGER NOT NULL DEFAULT 0,
    progress_message_id INTEGER,
    progress_text       TEXT,             -- what the progress message shows now
    progress_final      INTEGER NOT NULL DEFAULT 0,  -- the last progress report is shown
    created_at          REAL    NOT NULL
) STRICT;

-- Every message Herald pushes, written before any attempt to send it. A row stays after
-- it is sent (state 'sent'), so an entry is never pushed to a chat twice and /stats can
-- count recent sends; old sent rows are pruned.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    kind         TEXT    NOT NULL
                 CHECK (kind IN ('notice', 'breaking', 'alert', 'catchup', 'digest', 'broadcast')),
    priority     INTEGER NOT NULL,        -- lower goes first, across chats
    entry_id     INTEGER REFERENCES entries (id) ON DELETE CASCADE,
    topics       TEXT    NOT NULL DEFAULT '[]',  -- alerts: the matched topics, a JSON list
    text         TEXT,                    -- everything else: the HTML to send
    broadcast_id INTEGER REFERENCES broadcasts (id) ON DELETE CASCADE,
    state        TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'sent', 'blocked', 'failed', 'cancelled')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   REAL    NOT NULL,
    last_error   TEXT,
    created_at   REAL    NOT NULL,
    sent_at      REAL,
    message_id   INTEGER
) STRICT;

-- An entry reaches a chat once, whether it matched several topics, was queued twice, or
-- was pushed as breaking news.
CREATE UNIQUE INDEX outbox_entry_once ON outbox (chat_id, entry_id) WHERE entry_id IS NOT NULL;
-- The sender reads each chat's oldest pending message.
CREATE INDEX outbox_pending ON outbox (chat_id, id) WHERE state = 'pending';
CREATE INDEX outbox_sent ON outbox (sent_at) WHERE state = 'sent';
CREATE INDEX outbox_broadcast ON outbox (broadcast_id, state) WHERE broadcast_id IS NOT NULL;
