-- The same story often comes from two feeds under one link: routing looks links up to
-- alert a chat once, and /breaking <link> finds an entry by it.
CREATE INDEX entries_by_link ON entries (link);
