-- Users are created by the API on their first write (see tasks::store::create);
-- Better Auth owns the accounts, this table only mirrors the id and profile.
CREATE TABLE users (
    id         text PRIMARY KEY,
    email      text,
    name       text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tasks (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title       varchar(255) NOT NULL CHECK (length(title) > 0),
    description varchar(1000),
    completed   boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One index per sort key of GET /api/{user_id}/tasks. Each ends with id, the
-- tie-breaker of every ORDER BY, so a user's page is one index range scan in
-- either direction (and keyset pagination can resume from (key, id)).
CREATE INDEX tasks_user_created_idx ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_updated_idx ON tasks (user_id, updated_at, id);
CREATE INDEX tasks_user_title_idx   ON tasks (user_id, title, id);
