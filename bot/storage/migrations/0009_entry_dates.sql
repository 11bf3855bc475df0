-- A feed's date without a time ("2026-03-14") is stored as midnight UTC of that day; this
-- says so, so that alerts and lists show the day rather than an invented 00:00.
ALTER TABLE entries ADD COLUMN date_only INTEGER NOT NULL DEFAULT 0;
