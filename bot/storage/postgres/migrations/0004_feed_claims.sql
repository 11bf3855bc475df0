-- SQLite migration 0017 for PostgreSQL: the claim a process holds on a feed while it
-- polls it (epoch seconds; NULL while nobody does).
ALTER TABLE feeds ADD COLUMN claimed_until DOUBLE PRECISION;
