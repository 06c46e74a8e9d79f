-- The list's `tag` filter finds tasks carrying every tag asked for, in any
-- letter case: it compares the lower-cased tags (this function, on both
-- sides, so PostgreSQL's lower() alone decides what is equal). The GIN
-- index serves `@>` on them.
CREATE FUNCTION task_tag_keys(tags text[]) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ARRAY(SELECT lower(tag) FROM unnest(tags) AS tag);

CREATE INDEX tasks_tag_keys_idx ON tasks USING gin (task_tag_keys(tags));
