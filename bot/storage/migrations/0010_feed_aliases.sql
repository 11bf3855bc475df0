-- The least interval between polls the server asked for (Cache-Control max-age or Expires,
-- capped), in seconds; NULL when it asked for none.
ALTER TABLE feeds ADD COLUMN min_interval REAL;
