-- /search over a million entries (bench/README.md, "On PostgreSQL"): the full-text index
-- reads a query's matches window by window, newest first, and a window is narrowed inside
-- the GIN index rather than by reading every match back from the table.
--
-- An entry's buckets: the aligned ranges of ids it falls in at nine sizes, 2^8 to 2^24,
-- each a bigint ((id >> shift) << 5 | shift; bot.storage.postgres.fulltext builds the
-- same). They are the index's second column, so GIN steps through a query's words and a
-- window's buckets together, skipping what lies outside the window.
CREATE FUNCTION herald_fts_buckets(entry_id BIGINT) RETURNS BIGINT[]
    LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN ARRAY[
        (entry_id >> 8) << 5 | 8, (entry_id >> 10) << 5 | 10, (entry_id >> 12) << 5 | 12,
        (entry_id >> 14) << 5 | 14, (entry_id >> 16) << 5 | 16, (entry_id >> 18) << 5 | 18,
        (entry_id >> 20) << 5 | 20, (entry_id >> 22) << 5 | 22, (entry_id >> 24) << 5 | 24
    ];

-- Each indexed entry also carries its story, so /search, which keeps one entry a story,
-- reads it from the rows it has just ranked instead of 2,000 more rows of entries. The
-- table is written anew (newest first, as the indexer writes it) rather than updated in
-- place, which would leave it twice its size.
CREATE TABLE entries_fts_rebuilt (
    entry_id BIGINT   PRIMARY KEY REFERENCES entries (id) ON DELETE CASCADE,
    story    TEXT     NOT NULL,
    document TSVECTOR NOT NULL
);
INSERT INTO entries_fts_rebuilt (entry_id, story, document)
    SELECT f.entry_id, e.story, f.document
    FROM entries_fts AS f JOIN entries AS e ON e.id = f.entry_id
    ORDER BY f.entry_id DESC;
DROP TABLE entries_fts;
ALTER TABLE entries_fts_rebuilt RENAME TO entries_fts;
ALTER INDEX entries_fts_rebuilt_pkey RENAME TO entries_fts_pkey;
ALTER TABLE entries_fts
    RENAME CONSTRAINT entries_fts_rebuilt_entry_id_fkey TO entries_fts_entry_id_fkey;
ALTER TABLE entries_fts ALTER COLUMN document SET STATISTICS 1000;
CREATE INDEX entries_fts_document ON entries_fts
    USING GIN (document, herald_fts_buckets(entry_id));
-- The planner's statistics went with the old table.
ANALYZE entries_fts;

-- A story changes when the router finds an entry joins a cluster: index it again.
DROP TRIGGER entries_fts_update ON entries;
CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, summary, link, feed_id, story
    ON entries FOR EACH ROW EXECUTE FUNCTION herald_queue_fts();
