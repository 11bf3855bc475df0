-- A chat's daily digest, quiet hours and mute. Clock times are local to the chat's zone.
ALTER TABLE chats ADD COLUMN digest_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN digest_time TEXT NOT NULL DEFAULT '08:00';  -- HH:MM
ALTER TABLE chats ADD COLUMN next_digest_at REAL;   -- when the next scheduled digest is due
ALTER TABLE chats ADD COLUMN last_digest_at REAL;   -- entries seen after this go in the next
ALTER TABLE chats ADD COLUMN last_digest_day TEXT;  -- local date of the last scheduled one
ALTER TABLE chats ADD COLUMN quiet_start TEXT;      -- HH:MM, or NULL for no quiet hours
ALTER TABLE chats ADD COLUMN quiet_end TEXT;
ALTER TABLE chats ADD COLUMN muted_until REAL;
ALTER TABLE chats ADD COLUMN held_since REAL;       -- alerts are held (quiet or muted) since

CREATE INDEX chats_digest_due ON chats (next_digest_at) WHERE digest_enabled = 1;
CREATE INDEX chats_holding ON chats (id)
    WHERE quiet_start IS NOT NULL OR muted_until IS NOT NULL OR held_since IS NOT NULL;

-- Alerts for a chat in quiet hours or muted wait here, then go as one catch-up message.
CREATE TABLE held_alerts (
    chat_id  INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE ON UPDATE CASCADE,
    entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    topics   TEXT    NOT NULL,
    held_at  REAL    NOT NULL,
    PRIMARY KEY (chat_id, entry_id)
) STRICT, WITHOUT ROWID;
