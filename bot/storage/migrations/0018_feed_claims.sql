-- Several Herald processes on one database share the feed polls: a process claims a due
-- feed before polling it, until this time (epoch seconds), and the poll's recorded outcome
-- frees it. NULL: nobody is polling the feed. A claim whose time has passed belongs to a
-- process that died mid-poll, and the next process to find the feed due takes it over.
ALTER TABLE feeds ADD COLUMN claimed_until REAL;
