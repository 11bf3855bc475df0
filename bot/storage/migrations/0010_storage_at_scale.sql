-- Every foreign key that deletes or updates cascade through, and every statement a
-- schedule or a message runs, has an index: no statement on a hot path scans a table that
-- grows with the archive or the audience.

-- Deleting or moving a chat cascades to its messages, whatever their state.
CREATE INDEX outbox_by_chat ON outbox (chat_id, id);
-- Pruning messages that are over, oldest first.
CREATE INDEX outbox_done ON outbox (created_at)
    WHERE state IN ('sent', 'in_digest', 'blocked', 'failed', 'cancelled');
-- Forgetting keys pruned a year ago.
CREATE INDEX pruned_keys_by_age ON pruned_keys (pruned_at);
-- Forgetting searches a week old.
CREATE INDEX searches_by_age ON searches (created_at);

-- A search keeps the ids of its results as they were at its first page, so Next never
-- repeats or skips a story while the archive changes: a JSON list, best first.
ALTER TABLE searches ADD COLUMN results TEXT;
