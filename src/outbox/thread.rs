//! The `mail_thread` table, and only here: each mail convene sends on behalf of a room thread
//! (a secretariat answer, a question about an application) remembers that thread, so the
//! answer to the mail is posted back into it. Written by [`super::Tx::mail`] whenever the
//! mail's [`Report`](super::Report) names a thread.

use sqlx::AnyConnection;

use crate::storage::{Db, now_ms};

/// Remembers that the mail `message_id` (`<…>`) belongs to the thread of `root` in `room`
/// (also used by the bridge for inbound mail posted into a thread, so a mail answering it
/// finds the thread's root rather than the post, which cannot root a thread).
pub async fn remember(
    conn: &mut AnyConnection,
    message_id: &str,
    room: &str,
    root: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO mail_thread (message_id, room_id, root_event_id, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(room)
    .bind(root)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The (room, thread root) a mail sent by convene belongs to, by its Message-ID (`<…>`).
pub async fn of_message(db: &Db, message_id: &str) -> anyhow::Result<Option<(String, String)>> {
    Ok(
        sqlx::query_as("SELECT room_id, root_event_id FROM mail_thread WHERE message_id = $1")
            .bind(message_id)
            .fetch_optional(&db.pool)
            .await?,
    )
}
