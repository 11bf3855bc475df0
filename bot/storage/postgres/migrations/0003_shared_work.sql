-- SQLite's 0017: named leases for scheduled jobs, and the webhook's update ids taken.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  DOUBLE PRECISION NOT NULL
);
CREATE TABLE updates_taken (
    update_id BIGINT PRIMARY KEY,
    taken_at  DOUBLE PRECISION NOT NULL
);
CREATE INDEX updates_taken_at ON updates_taken (taken_at);

-- The overall send budget every process draws on, so together they keep to the send rate:
-- a token bucket whose tokens refill by the server's clock (epoch seconds in ``updated``).
CREATE TABLE send_budget (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    tokens  DOUBLE PRECISION NOT NULL,
    updated DOUBLE PRECISION NOT NULL
);
INSERT INTO send_budget (id, tokens, updated) VALUES (1, 0, extract(epoch FROM clock_timestamp()));
