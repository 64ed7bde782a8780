-- Foundation: mail in (cursor, inbound mail), the two outboxes, quarantine, small state.
-- Timestamps are Unix milliseconds (BIGINT) so one code path serves SQLite and PostgreSQL.

CREATE TABLE mail_cursor (
    mailbox     TEXT PRIMARY KEY,
    uidvalidity BIGINT NOT NULL,
    last_uid    BIGINT NOT NULL
);

CREATE TABLE inbound_mail (
    id          BIGSERIAL PRIMARY KEY,
    mailbox     TEXT NOT NULL,
    uidvalidity BIGINT NOT NULL,
    uid         BIGINT NOT NULL,
    message_key TEXT NOT NULL,
    size        BIGINT NOT NULL,
    raw         BYTEA,
    state       TEXT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    kind        TEXT,
    group_slug  TEXT,
    error       TEXT,
    received_at BIGINT NOT NULL,
    UNIQUE (mailbox, uidvalidity, uid)
);
CREATE INDEX inbound_mail_state ON inbound_mail (state, id);
CREATE INDEX inbound_mail_key ON inbound_mail (message_key);

CREATE TABLE matrix_outbox (
    id              BIGSERIAL PRIMARY KEY,
    txn_id          TEXT NOT NULL UNIQUE,
    room_id         TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    content         TEXT NOT NULL,
    source          TEXT,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    event_id        TEXT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX matrix_outbox_due ON matrix_outbox (state, next_attempt_at);
CREATE INDEX matrix_outbox_source ON matrix_outbox (source);

CREATE TABLE mail_outbox (
    id              BIGSERIAL PRIMARY KEY,
    dedup_key       TEXT NOT NULL UNIQUE,
    envelope_from   TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    message_id      TEXT NOT NULL,
    raw             BYTEA NOT NULL,
    state           TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);

CREATE TABLE quarantine (
    id         BIGSERIAL PRIMARY KEY,
    source     TEXT NOT NULL,
    ref_id     BIGINT,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE kv (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
