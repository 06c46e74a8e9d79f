-- The idempotency record keeps what replaying needs, not a copy of the task's
-- columns: the answer as it was created (the task as JSON) and a hash of the
-- parsed request, which tells a retry from a different request under the
-- same key. A new task field then changes the create statement's one
-- jsonb_build_object, not this table.
--
-- This is the expand step (docs/DEPLOY.md, "Migrations and deploys"): the
-- previous release's functions still write and read title/description until
-- the new ones replace them, so those columns stay (title now nullable) and
-- the create statement reads a record without a response the old way. A later
-- release drops them, once no function of this one's predecessor runs.
ALTER TABLE idempotency_keys
    ADD COLUMN request_hash bytea,
    ADD COLUMN response jsonb,
    ALTER COLUMN title DROP NOT NULL;

-- Keys stored before this migration replay their original 201 from the new
-- columns: the task as the old statement answered it (created_at doubled as
-- updated_at), and the hash `tasks::idempotency::request_hash` computes: each
-- text length-prefixed (big-endian int8), an absent description a 0 byte, a
-- present one a 1 byte first.
UPDATE idempotency_keys SET
    request_hash = sha256(
        int8send(octet_length(title)) || convert_to(title, 'UTF8')
        || CASE WHEN description IS NULL THEN '\x00'::bytea
                ELSE '\x01'::bytea || int8send(octet_length(description))
                     || convert_to(description, 'UTF8')
           END),
    response = jsonb_build_object(
        'id', task_id, 'user_id', user_id, 'title', title,
        'description', description, 'completed', false,
        'created_at', created_at, 'updated_at', created_at);
