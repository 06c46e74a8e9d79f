-- Fields people plan with: a priority, tags and a due date.
--
-- priority is the rank that `sort=priority` orders by (0 none, 1 low,
-- 2 medium, 3 high; `tasks::priority`). A due date is stored as the instant
-- it counts as for ordering and filtering (`due_at`; a whole day's is its
-- 00:00 UTC until tasks carry a time zone) and whether it is a whole day
-- (`due_all_day`), which the answer gives back as a bare date.
--
-- Every column has a default, so existing tasks read as none, [] and null,
-- the statements of the previous release keep working during a deploy, and
-- no row is rewritten (PostgreSQL 11+ stores a constant default once).
ALTER TABLE tasks
    ADD COLUMN priority smallint NOT NULL DEFAULT 0,
    ADD COLUMN tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN due_at timestamptz,
    ADD COLUMN due_all_day boolean NOT NULL DEFAULT false;

-- The CHECKs read the table once, under this migration's lock.
ALTER TABLE tasks
    ADD CONSTRAINT tasks_priority_rank CHECK (priority BETWEEN 0 AND 3),
    ADD CONSTRAINT tasks_due_all_day_has_date CHECK (NOT due_all_day OR due_at IS NOT NULL);
