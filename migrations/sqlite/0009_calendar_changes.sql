-- A calendar that keeps up with change (issue 12): members' own time zones, personal
-- reminders, snoozes, and the sender of each proposal found in mail (for the daily cap).

-- `!tz Europe/Lisbon`: answers and direct messages show the member's time beside the
-- calendar's.
CREATE TABLE calendar_member_tz (
    user_id    TEXT PRIMARY KEY,
    tz         TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- `!remind me <item> <offset>`: one occurrence (`occurrence` is an occurrence id, or a
-- one-off item's id), reminded by direct message `offset_secs` before it starts. The due
-- time is computed from the stored calendar at each pass, so it follows a move.
CREATE TABLE calendar_personal (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    occurrence  TEXT NOT NULL,
    offset_secs BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- ⏰ or "remind me again in 1 hour" on a reminder: it comes back once, by direct message, to
-- that person. `fired_at` is set in the transaction that queues the message.
CREATE TABLE calendar_snooze (
    user_id      TEXT NOT NULL,
    reminder_key TEXT NOT NULL,
    kind         TEXT NOT NULL,
    occurrence   TEXT NOT NULL,
    due_at       BIGINT NOT NULL,
    fired_at     BIGINT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, reminder_key)
);
CREATE INDEX calendar_snooze_pending ON calendar_snooze (fired_at, due_at);

ALTER TABLE calendar_proposal ADD COLUMN sender TEXT;
CREATE INDEX calendar_proposal_sender ON calendar_proposal (sender, created_at);

-- The calendar file's own version of each item, as last loaded: a reload (or a restart)
-- applies only what the file changed since, so that a meeting moved or cancelled by command
-- stays so until the file itself changes that meeting.
ALTER TABLE calendar_item ADD COLUMN file_body TEXT;
