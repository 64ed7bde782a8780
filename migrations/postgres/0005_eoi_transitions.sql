-- The status transitions of each expression of interest (arrival, late, review, decisions),
-- shown by `!eoi show`.
CREATE TABLE eoi_transition (
    id     BIGSERIAL PRIMARY KEY,
    eoi_id BIGINT NOT NULL REFERENCES eoi (id),
    status TEXT NOT NULL,
    actor  TEXT,
    at     BIGINT NOT NULL
);
CREATE INDEX eoi_transition_eoi ON eoi_transition (eoi_id, id);
