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
-- one was joined into.
ALTER TABLE eoi DROP CONSTRAINT IF EXISTS eoi_call_key_email_key;
ALTER TABLE eoi ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE eoi ADD COLUMN submitted_by TEXT;
ALTER TABLE eoi ADD COLUMN contact TEXT;
ALTER TABLE eoi ADD COLUMN sender_auth TEXT;
ALTER TABLE eoi ADD COLUMN joined_into BIGINT;
ALTER TABLE eoi ADD CONSTRAINT eoi_call_key_email_owner_key UNIQUE (call_key, email, owner);
CREATE INDEX eoi_email ON eoi (email, call_key);

ALTER TABLE eoi_history ADD COLUMN sender_auth TEXT;

-- Every automatic reply convene decided to send or suppress, per recipient: the limits
-- (applications.replies_per_address_per_day, applications.replies_per_hour) are counted
-- here, so a restart does not reset them. `suppressed` is NULL for a reply that was queued,
-- else the limit that held it back ('address' or 'hourly').
CREATE TABLE auto_reply (
    id              BIGSERIAL PRIMARY KEY,
    address         TEXT NOT NULL,
    inbound_mail_id BIGINT,
    kind            TEXT NOT NULL,
    suppressed      TEXT,
    at              BIGINT NOT NULL
);
CREATE INDEX auto_reply_address ON auto_reply (address, at);
CREATE INDEX auto_reply_at ON auto_reply (at);
