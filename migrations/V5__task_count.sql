-- The per-user task limit (MAX_TASKS_PER_USER) is checked by the create
-- statement against this count, read from the owner's row it already locks:
-- one row, not a count(*) over the user's tasks on every create.
--
-- The database keeps the count, for every insert and delete by anyone: the
-- endpoints, a cascade from users, psql, and the previous release's functions
-- during a deploy (they know nothing of it, and need not: this migration only
-- adds). A statement that forgot to maintain it cannot exist.
ALTER TABLE users ADD COLUMN task_count integer NOT NULL DEFAULT 0;

CREATE FUNCTION count_user_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE users SET task_count = task_count + 1 WHERE id = NEW.user_id;
    ELSE
        UPDATE users SET task_count = task_count - 1 WHERE id = OLD.user_id;
    END IF;
    RETURN NULL;
END
$$;

-- A user's id never changes (no endpoint writes tasks.user_id), so inserts
-- and deletes are all that move the count.
CREATE TRIGGER tasks_count_per_user AFTER INSERT OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION count_user_tasks();

-- The users who already have tasks. Exact even while the API is live: the
-- trigger's lock on tasks is held until this migration commits, so no insert
-- or delete lands between this count and the trigger taking over.
UPDATE users SET task_count = counted.tasks
FROM (SELECT user_id, count(*) AS tasks FROM tasks GROUP BY user_id) AS counted
WHERE users.id = counted.user_id;
