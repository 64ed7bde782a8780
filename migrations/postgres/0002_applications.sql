-- Expressions of interest: one record per applicant (email) per call, the history of every
-- extraction that built it, and the attachments as received (never rendered).

CREATE TABLE eoi (
    id           BIGSERIAL PRIMARY KEY,
    call_key     TEXT NOT NULL,
    email        TEXT NOT NULL,
    status       TEXT NOT NULL,
    record       TEXT NOT NULL,
    reply_to     TEXT NOT NULL,
    message_id   TEXT,
    group_slug   TEXT,
    decided_role TEXT,
    decisions    BIGINT NOT NULL DEFAULT 0,
    last_ack_at  BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (call_key, email)
);
CREATE INDEX eoi_status ON eoi (status);

CREATE TABLE eoi_history (
    id              BIGSERIAL PRIMARY KEY,
    eoi_id          BIGINT NOT NULL REFERENCES eoi (id),
    inbound_mail_id BIGINT,
    extracted       TEXT NOT NULL,
    received_at     BIGINT NOT NULL
);
CREATE INDEX eoi_history_eoi ON eoi_history (eoi_id, id);

CREATE TABLE eoi_attachment (
    id              BIGSERIAL PRIMARY KEY,
    eoi_id          BIGINT NOT NULL REFERENCES eoi (id),
    inbound_mail_id BIGINT,
    filename        TEXT,
    content_type    TEXT NOT NULL,
    size            BIGINT NOT NULL,
    content         BYTEA,
    received_at     BIGINT NOT NULL
);
CREATE INDEX eoi_attachment_eoi ON eoi_attachment (eoi_id);
