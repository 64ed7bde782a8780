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
use super::service::Service;
use super::{humanize, ids, store};
use crate::outbox::{Key, MatrixOp, Report};

/// Called by the mail pipeline for every human-written mail after it was routed (to `group`).
pub async fn on_mail(
    cal: &Service,
    inbound_id: i64,
    group: Option<&str>,
    text: &str,
    sent: Option<DateTime<Utc>>,
) -> anyhow::Result<()> {
    let tz = cal.s.tz;
    let now = Utc::now();
    let reference = sent.unwrap_or(now).with_timezone(&tz).date_naive();
    let proposals = phrases::detect(text, reference);
    if proposals.is_empty() {
        return Ok(());
    }
    let group = group.map(str::to_owned);
    let mut tx = cal.outbox.begin().await?;
    for (i, p) in proposals.iter().enumerate() {
        let dedup = format!("{inbound_id}:{i}");
        let id = store::add_proposal(&mut tx, &dedup, inbound_id, group.as_deref(), p).await?;
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
        let room = cal.s.management_room.clone();
        tx.post(
            Key::Proposal(id),
            &room,
            crate::chat::notice_markdown(&card),
        )
        .await?;
    }
    tx.commit().await
}

/// A ✅ on proposal `id`: adds the item (once) and says so in `room`.
pub async fn accept(cal: &Service, room: &str, id: i64) -> anyhow::Result<()> {
    let Some(sp) = store::proposal(&cal.db, id).await? else {
        return Ok(());
    };
    if !store::accept_proposal(&cal.db, id).await? {
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
    store::upsert(&cal.db, &item, store::MAIL).await?;
    cal.wake.notify_one();
    let text = format!(
        "✅ Added {} `{}` — **{}**, {}",
        item.kind(),
        item.id(),
        item.title(),
        humanize::when(item.when(), Utc::now(), cal.s.tz)
    );
    cal.outbox.notice(Key::ProposalAdded(id), room, &text).await
}

/// 🔔 on a reminder posted in the room of group `slug`: `user` gets that group's next
/// reminders by direct message (the Matrix transport finds or creates the DM room once).
pub async fn subscribe(cal: &Service, user: &str, slug: &str) -> anyhow::Result<()> {
    let Some(group) = cal.s.groups.get(slug) else {
        return Ok(());
    };
    if store::subscribe(&cal.db, user, slug).await? {
        let text = format!("🔔 You will get the next {} reminders here.", group.name);
        let op = MatrixOp::DirectMessage {
            user: user.to_owned(),
            content: crate::chat::notice(&text),
        };
        let key = Key::Subscribed {
            slug: slug.to_owned(),
            user: user.to_owned(),
        };
        let mut tx = cal.outbox.begin().await?;
        tx.matrix(key, op, None, Report::none()).await?;
        tx.commit().await?;
    }
    Ok(())
}
