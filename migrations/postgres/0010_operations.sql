-- Operations (issue 10). The audit trail: every secretariat action, who did what to which
-- target and when. Append-only: rows are never changed or deleted (the trigger refuses it).
-- It holds ids, never personal data: an erasure leaves its own audit row behind, naming the
-- record by number only.
CREATE TABLE audit (
    id      BIGSERIAL PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    detail  TEXT
);
CREATE INDEX audit_at ON audit (at);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only';
END;
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
    FOR EACH ROW EXECUTE FUNCTION audit_append_only();

-- Two processes (HA, issue 10): the leader's lease (one row, renewed every second; the
-- other process takes over when it expires), the Matrix events one of them claimed (both
-- sync; the first to claim an event handles it), and which process had an outbox item in
-- flight (a resend by another process first looks for the event the first one may have
-- posted).
CREATE TABLE leader_lease (
    id         BIGINT PRIMARY KEY,
    holder     TEXT NOT NULL,
    term       BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE matrix_claim (
    event_id TEXT PRIMARY KEY,
    holder   TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX matrix_claim_at ON matrix_claim (at);
ALTER TABLE outbox ADD COLUMN sending_by TEXT;
