-- Story clusters: a sent alert whose story then arrives from other outlets is edited to
-- name them ("Also: ..."). One row per alert message that has sources to name; it goes
-- with its outbox row when sent messages are pruned.
CREATE TABLE alert_sources (
    outbox_id INTEGER PRIMARY KEY REFERENCES outbox (id) ON DELETE CASCADE,
    chat_id   INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    sources   TEXT    NOT NULL DEFAULT '[]',  -- the other outlets' names, in arrival order
    shown     INTEGER NOT NULL DEFAULT 0,     -- how many of them the message names now
    edits     INTEGER NOT NULL DEFAULT 0,     -- edits made, a few at most
    due       INTEGER NOT NULL DEFAULT 0      -- 1 while an edit waits to be made
) STRICT;
CREATE INDEX alert_sources_due ON alert_sources (outbox_id) WHERE due = 1;
CREATE INDEX alert_sources_by_chat ON alert_sources (chat_id);
-- Whether an alert went out alone or in a merged list is read from the messages that share
-- its Telegram message id: only an alert sent alone is edited.
CREATE INDEX outbox_alert_messages ON outbox (chat_id, message_id)
    WHERE kind = 'alert' AND message_id IS NOT NULL;
