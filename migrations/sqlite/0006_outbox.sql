-- One outbox for every side effect on the world, whatever the transport: room posts, invites,
-- media uploads and direct messages (transport 'matrix'), and mail (transport 'mail').
-- `key` is the typed key of the side effect (src/outbox/key.rs), fixed when it is queued: it
-- gives the Matrix transaction id and the mail's Message-ID, so a resend never doubles.
-- Items of one `lane` (a room, a recipient) are sent in queue order.
-- The old matrix_outbox and mail_outbox rows are copied; those tables are no longer written.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    transport       TEXT NOT NULL,
    key             TEXT NOT NULL,
    lane            TEXT NOT NULL,
    op              TEXT NOT NULL,
    data            BLOB,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    done_at         BIGINT,
    result          TEXT,
    last_error      TEXT,
    report_room     TEXT,
    report_thread   TEXT,
    UNIQUE (transport, key)
);
CREATE INDEX outbox_pending ON outbox (transport, state, id);
CREATE INDEX outbox_result ON outbox (result);

INSERT INTO outbox (transport, key, lane, op, state, attempts, next_attempt_at, created_at,
                    done_at, result, last_error)
SELECT 'matrix', COALESCE(source, txn_id), room_id,
       json_object('op', 'send', 'room', room_id, 'event_type', event_type,
                   'content', json(content)),
       state, attempts, next_attempt_at, created_at,
       CASE WHEN state = 'sent' THEN created_at END, event_id, last_error
FROM matrix_outbox ORDER BY id;

INSERT INTO outbox (transport, key, lane, op, data, state, attempts, next_attempt_at,
                    created_at, done_at, result, last_error)
SELECT 'mail', dedup_key, COALESCE(json_extract(recipients, '$[0]'), ''),
       json_object('envelope_from', envelope_from, 'recipients', json(recipients),
                   'message_id', message_id),
       raw, state, attempts, next_attempt_at, created_at, sent_at, message_id, last_error
FROM mail_outbox ORDER BY id;

-- The time of the last completed check of the folder (for a UIDVALIDITY change: mail that
-- arrived after it is new, mail before it was already there).
ALTER TABLE mail_cursor ADD COLUMN checked_at BIGINT;

-- The direct-message room of each user the bot writes to (owned by the Matrix transport).
CREATE TABLE matrix_dm (
    user_id    TEXT PRIMARY KEY,
    room_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
