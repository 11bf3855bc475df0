-- WebSub subscriptions (W3C WebSub): one a feed, found through the feed's hub link.
-- A row outlives its feed while the hub confirms an unsubscription, so feed_id is no
-- foreign key; rows whose feed is gone are deleted once the hub confirms, or given up.
CREATE TABLE websub_subscriptions (
    feed_id        INTEGER PRIMARY KEY,
    hub            TEXT    NOT NULL,
    topic          TEXT    NOT NULL,           -- the feed's self URL, as the hub knows it
    callback_token TEXT    NOT NULL UNIQUE,    -- the last part of the callback URL
    secret         TEXT    NOT NULL,           -- hub.secret: pushes are signed with it
    state          TEXT    NOT NULL CHECK (state IN
                       ('requested', 'active', 'unsubscribing', 'denied', 'failed')),
    requested_at   REAL    NOT NULL,
    lease_seconds  INTEGER,
    expires_at     REAL,                       -- set when the hub verifies
    last_push_at   REAL,
    pushes         INTEGER NOT NULL DEFAULT 0,
    error          TEXT
) STRICT;

CREATE INDEX websub_expiring ON websub_subscriptions (expires_at) WHERE state = 'active';
