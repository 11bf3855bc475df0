-- Other URLs of a feed: a configured URL that redirected permanently to the feed is kept
-- here, so that starting again with the old URL in HERALD_FEEDS finds the feed it became
-- instead of adding it a second time.
CREATE TABLE feed_aliases (
    url     TEXT    PRIMARY KEY,
    feed_id INTEGER NOT NULL REFERENCES feeds (id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE INDEX feed_aliases_by_feed ON feed_aliases (feed_id);

-- The least interval between polls the server asked for (Cache-Control max-age or Expires,
-- capped), in seconds; NULL when it asked for none.
ALTER TABLE feeds ADD COLUMN min_interval REAL;
