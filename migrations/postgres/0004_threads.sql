-- Two-way threading: each mail convene sends on behalf of a room thread remembers the
-- thread, so the answer to that mail is posted back into it.
CREATE TABLE mail_thread (
    message_id    TEXT PRIMARY KEY,
    room_id       TEXT NOT NULL,
    root_event_id TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
