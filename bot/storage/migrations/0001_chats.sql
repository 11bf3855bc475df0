-- Chats Herald talks to. Times are seconds since the epoch (UTC), as in every table.
CREATE TABLE chats (
    id              INTEGER PRIMARY KEY,          -- Telegram chat id
    kind            TEXT    NOT NULL CHECK (kind IN ('private', 'group', 'supergroup', 'channel')),
    title           TEXT    NOT NULL DEFAULT '',
    timezone        TEXT    NOT NULL,             -- IANA name
    inactive_reason TEXT             CHECK (inactive_reason IN ('blocked', 'removed', 'not_found')),
    inactive_since  REAL,
    created_at      REAL    NOT NULL,
    updated_at      REAL    NOT NULL
) STRICT;

CREATE INDEX chats_active ON chats (id) WHERE inactive_reason IS NULL;

-- Small facts about the running bot, e.g. its heartbeat for `herald health`.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value ANY
) STRICT;
