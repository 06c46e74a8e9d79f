-- `q` on GET /api/{user_id}/tasks is a case-insensitive substring match on
-- title or description (ILIKE '%…%'), which no btree can serve. Trigram GIN
-- indexes can: PostgreSQL combines the two with a BitmapOr, then filters by
-- user. pg_trgm is a trusted extension (PostgreSQL 13+), available on Neon.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE INDEX tasks_title_trgm_idx ON tasks USING gin (title gin_trgm_ops);
CREATE INDEX tasks_description_trgm_idx ON tasks USING gin (description gin_trgm_ops);
