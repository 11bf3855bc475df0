-- Forum threads and chats managed from elsewhere. Thread 0 is a chat's General (or the chat
-- itself where there are no threads); any other number is a forum thread's id. Tables are
-- rebuilt where a key changes (SQLite's twelve-step ALTER).

-- A topic alerts the thread it was added in; one forum may follow the same query in two
-- threads.
CREATE TABLE topics_new (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    thread_id  INTEGER NOT NULL DEFAULT 0,
    query      TEXT    NOT NULL,
    canonical  TEXT    NOT NULL,
    mode       TEXT    NOT NULL DEFAULT 'instant' CHECK (mode IN ('instant', 'digest')),
    created_at REAL    NOT NULL,
    UNIQUE (chat_id, thread_id, canonical)
) STRICT;
INSERT INTO topics_new (id, chat_id, query, canonical, mode, created_at)
SELECT id, chat_id, query, canonical, mode, created_at FROM topics;
DROP TABLE topics;
ALTER TABLE topics_new RENAME TO topics;

-- Every message goes to one thread of its chat; the existing per-chat indexes serve the
-- per-thread reads (a chat's pending messages are few).
ALTER TABLE outbox ADD COLUMN thread_id INTEGER NOT NULL DEFAULT 0;

-- Digests, catch-ups and breaking pushes go to the thread the chat chose (/digest here).
ALTER TABLE chats ADD COLUMN digest_thread_id INTEGER NOT NULL DEFAULT 0;

-- A message not bound to a topic's thread (anything but an alert) goes to the chat's chosen
-- thread: one rule, whichever path queues it.
CREATE TRIGGER outbox_to_chosen_thread AFTER INSERT ON outbox
WHEN new.kind != 'alert' AND new.thread_id = 0
BEGIN
    UPDATE outbox SET thread_id = (SELECT digest_thread_id FROM chats WHERE id = new.chat_id)
    WHERE id = new.id;
END;

-- The ledger records the thread a story reached: in a forum, threads are read by different
-- people, so a story matched by topics in two threads reaches each of them once.
CREATE TABLE ledger_new (
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    thread_id    INTEGER NOT NULL DEFAULT 0,
    story        TEXT    NOT NULL,
    channel      TEXT    NOT NULL CHECK (channel IN ('push', 'digest')),
    entry_id     INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    outbox_id    INTEGER,
    delivered_at REAL    NOT NULL,
    PRIMARY KEY (chat_id, story, channel, thread_id)
) STRICT, WITHOUT ROWID;
INSERT INTO ledger_new (chat_id, story, channel, entry_id, kind, outbox_id, delivered_at)
SELECT chat_id, story, channel, entry_id, kind, outbox_id, delivered_at FROM ledger;
DROP TABLE ledger;
ALTER TABLE ledger_new RENAME TO ledger;
CREATE INDEX ledger_by_entry ON ledger (entry_id);

-- Who set up each chat through Herald (from a private chat, or by adding the bot), so
-- /chats can list the channels and groups a user manages.
CREATE TABLE chat_managers (
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    user_id    INTEGER NOT NULL,
    created_at REAL    NOT NULL,
    PRIMARY KEY (user_id, chat_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX chat_managers_by_chat ON chat_managers (chat_id);
