-- Calendar: items (JSON of the model item, revision = ICS SEQUENCE), reminder and job
-- firings (recorded before posting, in the same transaction as the outbox entry), and
-- proposals found in mail awaiting a ✅.

CREATE TABLE calendar_item (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    body       TEXT NOT NULL,
    revision   BIGINT NOT NULL,
    source     TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE TABLE calendar_fired (
    key      TEXT PRIMARY KEY,
    fired_at BIGINT NOT NULL,
    -- 0 on time, 1 late (sent marked late), 2 too old (reported, not sent)
    late     BIGINT NOT NULL
);

CREATE TABLE calendar_proposal (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dedup       TEXT NOT NULL UNIQUE,
    inbound_id  BIGINT,
    group_slug  TEXT,
    body        TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- 🔔 on a reminder: the user gets the next reminders of that group by direct message.
CREATE TABLE calendar_subscriber (
    user_id    TEXT NOT NULL,
    group_slug TEXT NOT NULL,
    dm_room    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, group_slug)
);
