//! Deadlines and meetings hidden in inbound mail, proposed to the secretariat.
//!
//! Each proposal found by [`super::phrases::detect`] is stored once per (mail, position) and
//! posted to the management room as a card with the outbox key `proposal-<id>`; a ✅ from a
//! member of the secretariat on that card adds it to the calendar (source `mail`) — once,
//! however many ✅ arrive.
//!
//! Also the other reaction the calendar takes: 🔔 on a reminder posted in a group room
//! subscribes the reacting user to that group's next reminders, by direct message
//! ([`subscribe`]).

use chrono::{DateTime, Utc};

use super::model::{Deadline, Item, Meeting, Mode};
use super::phrases::{self, ProposalKind};
use super::{humanize, ids, store};
use crate::app::Ctx;

/// Called by the mail pipeline for every human-written mail after it was routed.
pub async fn on_mail(
    ctx: &Ctx,
    inbound_id: i64,
    text: &str,
    sent: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    let tz = ctx.config.tz();
    let now = Utc::now();
    let reference = sent.unwrap_or(now).with_timezone(&tz).date_naive();
    let proposals = phrases::detect(text, reference);
    if proposals.is_empty() {
        return Ok(());
    }
    let group: Option<(Option<String>,)> =
        sqlx::query_as("SELECT group_slug FROM inbound_mail WHERE id = $1")
            .bind(inbound_id)
            .fetch_optional(&ctx.db.pool)
            .await?;
    let group = group.and_then(|g| g.0);
    for (i, p) in proposals.iter().enumerate() {
        let dedup = format!("{inbound_id}:{i}");
        let id = store::add_proposal(&ctx.db, &dedup, inbound_id, group.as_deref(), p).await?;
        let kind = match p.kind {
            ProposalKind::Deadline => "deadline",
            ProposalKind::Meeting => "meeting",
        };
        let for_group = group
            .as_deref()
            .map(|g| format!(" ({})", humanize::group_label(g)))
            .unwrap_or_default();
        let card = format!(
            "📅 **Proposed {kind}**{for_group}: {} — {}\n> {}\n\nReact ✅ to add it to the calendar.",
            p.title,
            humanize::when(&p.when, now, tz),
            p.sentence.replace('\n', " ")
        );
        let post = crate::matrix::outbox::Post::message(
            format!("proposal-{id}"),
            &ctx.config.matrix.management_room,
            crate::matrix::notice_markdown(&card),
        );
        crate::matrix::outbox::enqueue(&ctx.db.pool, &ctx.install_id, &post).await?;
    }
    ctx.wake.matrix_outbox.notify_one();
    Ok(())
}

/// A ✅ on proposal `id`: adds the item (once) and says so in `room`.
pub async fn accept(ctx: &Ctx, room: &str, id: i64) -> anyhow::Result<()> {
    let Some(sp) = store::proposal(&ctx.db, id).await? else {
        return Ok(());
    };
    if !store::accept_proposal(&ctx.db, id).await? {
        return Ok(());
    }
    let p = &sp.proposal;
    let groups: Vec<String> = sp.group.into_iter().collect();
    let item_id = ids::derive_id(&p.title, &p.when);
    let item = match p.kind {
        ProposalKind::Deadline => Item::Deadline(Deadline {
            id: item_id,
            title: p.title.clone(),
            due: p.when.clone(),
            groups,
            source: Some(format!("mail: “{}”", p.sentence.replace('\n', " "))),
            repeat: None,
        }),
        ProposalKind::Meeting => Item::Meeting(Meeting {
            id: item_id,
            title: p.title.clone(),
            groups,
            mode: Mode::Online,
            start: p.when.clone(),
            end: None,
            location: None,
            join_link: None,
            agenda: Vec::new(),
            minutes_link: None,
            cancelled: false,
            repeat: None,
        }),
    };
    store::upsert(&ctx.db, &item, store::MAIL).await?;
    ctx.wake.scheduler.notify_one();
    let text = format!(
        "✅ Added {} `{}` — **{}**, {}",
        item.kind(),
        item.id(),
        item.title(),
        humanize::when(item.when(), Utc::now(), ctx.config.tz())
    );
    ctx.post_notice(&format!("proposal-{id}-added"), room, &text)
        .await
}

/// 🔔 on the reminder posted as `reminder-<reminder key>@<group>`: `user` gets that group's
/// next reminders in a direct-message room (created once per user).
pub async fn subscribe(ctx: &Ctx, user: &str, reminder: &str) -> anyhow::Result<()> {
    let Some((_, slug)) = reminder.rsplit_once('@') else {
        return Ok(());
    };
    let Some(group) = ctx.config.group(slug) else {
        return Ok(()); // a reminder already sent by DM
    };
    let room = match store::dm_room_of(&ctx.db, user).await? {
        Some(room) => room,
        None => {
            let client = ctx
                .matrix
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("no Matrix client"))?;
            let id = matrix_sdk::ruma::UserId::parse(user)?;
            client.create_dm(&id).await?.room_id().to_string()
        }
    };
    if store::subscribe(&ctx.db, user, slug, &room).await? {
        let text = format!("🔔 You will get the next {} reminders here.", group.name);
        ctx.post_notice(&format!("subscribed-{user}-{slug}"), &room, &text)
            .await?;
    }
    Ok(())
}
