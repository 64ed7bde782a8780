-- The bridge both ways (issue 9).
--
-- Each outbox item may name the bot's status post it keeps current (queued → sent / failed /
-- bounced): the key of that post. Mail to a recipient marked for bounces is queued `held`.
ALTER TABLE outbox ADD COLUMN report_status TEXT;

-- Recipients whose mail is held for a secretariat decision (owned by the outbox).
CREATE TABLE outbox_hold (
    address    TEXT PRIMARY KEY,
    reason     TEXT NOT NULL,
    since      BIGINT NOT NULL
);

-- A mail conversation bridged to a room thread: rooted at a bridged mail (`root_key`, the
-- outbox key of its post) or at a secretariat's `!mail` message (`root_event`).
CREATE TABLE bridge_conversation (
    id              BIGSERIAL PRIMARY KEY,
    room            TEXT NOT NULL,
    root_key        TEXT UNIQUE,
    root_event      TEXT UNIQUE,
    subject         TEXT NOT NULL,
    norm_subject    TEXT NOT NULL,
    correspondent   TEXT NOT NULL,
    participants    TEXT NOT NULL,
    last_message_id TEXT,
    refs            TEXT NOT NULL,
    last_mail_at    BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX bridge_conversation_subject ON bridge_conversation (norm_subject, last_mail_at);

-- Files the secretariat posted in a conversation's thread, attached to its next mail.
CREATE TABLE bridge_attachment (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id BIGINT NOT NULL,
    event_id        TEXT NOT NULL UNIQUE,
    filename        TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    source          TEXT NOT NULL,
    mailed_key      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX bridge_attachment_pending ON bridge_attachment (conversation_id, mailed_key);

-- Bounce scores per recipient (Mailman's anchor): hard bounces add 1000, soft 500, the score
-- halves every `bridge.bounce_half_life`; at `bridge.bounce_threshold` the address is marked.
CREATE TABLE bridge_bounce (
    address     TEXT PRIMARY KEY,
    score_milli BIGINT NOT NULL,
    hard        BIGINT NOT NULL,
    soft        BIGINT NOT NULL,
    last_at     BIGINT NOT NULL,
    last_reason TEXT,
    marked_at   BIGINT
);
