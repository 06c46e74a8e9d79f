-- Idempotency-Key on POST /api/{user_id}/tasks: one row per (user, key),
-- written by the create statement itself. It keeps the task as it was
-- created, so a retry gets the original 201 even after the task changed or
-- was deleted, and title/description to tell a retry from a different
-- request under the same key. Rows older than 24 hours are expired: the
-- create statement reclaims or sweeps them for the user at hand.
CREATE TABLE idempotency_keys (
    user_id     text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key         text NOT NULL,
    task_id     bigint NOT NULL,
    title       varchar(255) NOT NULL,
    description varchar(1000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
