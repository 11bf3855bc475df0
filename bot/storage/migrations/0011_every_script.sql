-- The full-text index holds Herald's own tokens, not SQLite's: the stems the topic matcher
-- compares, made by the one normaliser for every script (case and marks folded, Chinese,
-- Japanese and Korean as character bigrams, each entry stemmed in its language). FTS5's
-- porter/unicode61 tokenizers knew none of that, so /search and topics drifted apart.
-- Python makes the tokens, so SQL can't: triggers only queue an entry whose text, link or
-- feed changed, and the entry repository indexes the queue (EntryRepository.index_pending)
-- before it routes or searches.
DROP TRIGGER entries_fts_insert;
DROP TRIGGER entries_fts_delete;
DROP TRIGGER entries_fts_update;
DROP TABLE entries_fts;

-- title and summary: stems, space-joined; source: the site keys of the link's host and its
-- parent domains, and the feed's key. The ascii tokenizer splits only at spaces and ASCII
-- punctuation (none left in a token) and changes nothing else. The table keeps its own copy
-- of the tokens, so a deleted entry's row goes by rowid, without its text.
CREATE VIRTUAL TABLE entries_fts USING fts5 (title, summary, source, tokenize = 'ascii');

CREATE TABLE entries_fts_pending (
    entry_id INTEGER PRIMARY KEY  -- an entry whose row in entries_fts is missing or stale
) STRICT;

CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
    INSERT OR IGNORE INTO entries_fts_pending (entry_id) VALUES (new.id);
END;

CREATE TRIGGER entries_fts_update AFTER UPDATE OF title, summary, link, feed_id ON entries BEGIN
    INSERT OR IGNORE INTO entries_fts_pending (entry_id) VALUES (new.id);
END;

CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
    DELETE FROM entries_fts WHERE rowid = old.id;
    DELETE FROM entries_fts_pending WHERE entry_id = old.id;
END;

-- Every stored entry is indexed again, newest first, at the first routing or search.
INSERT INTO entries_fts_pending (entry_id) SELECT id FROM entries;
