-- no-transaction
-- Safe in front of the public internet (issue 8).
--
-- eoi: a record belongs to the address that sent it. `owner` is '' for the applicant's own
-- record (its `email` is the sender's aligned address) and the submitting address for a
-- record someone else sent (a forward, a web form, a sender whose From and envelope do not
-- align): one applicant can then have their own record and records submitted by others in
-- the same call, so the unique key becomes (call_key, email, owner). `submitted_by` keeps who
-- submitted it after it joined the applicant's own record; `contact` is an address the mail
-- only wrote in its body (a claim, never an identity); `sender_auth` the sender's alignment
-- and our server's SPF/DKIM/DMARC results (JSON); `joined_into` the own record a submitted
-- one was joined into. A UNIQUE constraint cannot be dropped in SQLite: the table is rebuilt
-- (foreign keys off for the copy, as SQLite's documentation describes), hence no implicit
-- transaction around this file and an explicit one inside.
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TABLE eoi_rebuilt (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    call_key     TEXT NOT NULL,
    email        TEXT NOT NULL,
    owner        TEXT NOT NULL DEFAULT '',
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
    submitted_by TEXT,
    contact      TEXT,
    sender_auth  TEXT,
    joined_into  BIGINT,
    UNIQUE (call_key, email, owner)
);
INSERT INTO eoi_rebuilt (id, call_key, email, status, record, reply_to, message_id, group_slug,
                         decided_role, decisions, last_ack_at, created_at, updated_at)
SELECT id, call_key, email, status, record, reply_to, message_id, group_slug, decided_role,
       decisions, last_ack_at, created_at, updated_at
FROM eoi ORDER BY id;
DROP TABLE eoi;
ALTER TABLE eoi_rebuilt RENAME TO eoi;
CREATE INDEX eoi_status ON eoi (status);
CREATE INDEX eoi_email ON eoi (email, call_key);

ALTER TABLE eoi_history ADD COLUMN sender_auth TEXT;

-- Every automatic reply convene decided to send or suppress, per recipient: the limits
-- (applications.replies_per_address_per_day, applications.replies_per_hour) are counted
-- here, so a restart does not reset them. `suppressed` is NULL for a reply that was queued,
-- else the limit that held it back ('address' or 'hourly').
CREATE TABLE auto_reply (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    address         TEXT NOT NULL,
    inbound_mail_id BIGINT,
    kind            TEXT NOT NULL,
    suppressed      TEXT,
    at              BIGINT NOT NULL
);
CREATE INDEX auto_reply_address ON auto_reply (address, at);
CREATE INDEX auto_reply_at ON auto_reply (at);
COMMIT;
PRAGMA foreign_keys = ON;
