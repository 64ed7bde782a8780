//! Deadlines and meetings hidden in inbound mail, proposed to the secretariat.
//!
//! - Each proposal found by [`super::phrases::detect`] is stored once per (mail, position) and
//!   posted to the management room as a card with the outbox key `proposal-<id>`, in one
//!   transaction; a ✅ from a member of the secretariat on that card adds it to the calendar
//!   (source `mail`) — once, however many ✅ arrive. A meeting keeps the mode and place its
//!   sentence says ("in Brussels": in person, there), not "online".
//! - Mail is untrusted: every value a card quotes (the sentence, the title, the place) goes
//!   through [`crate::markup`] (truncated, then escaped), so nothing in a mail becomes a link,
//!   a mention or formatting in the bot's voice.
//! - Floods: at most `calendar.proposals_per_mail` proposals (default 3) of one mail are
//!   carded, and at most `calendar.proposals_per_sender_per_day` (default 10) of one sender
//!   in 24 hours, counted in the database (restarts do not reset it). What is left out is said
//!   once per mail, in one line.
//!
//! Also the reactions the calendar takes on reminders: 🔔 on a reminder posted in a group room
//! subscribes the reacting user to that group's reminders by direct message, and a second 🔔
//! (on any reminder of the group, or on a reminder they got by direct message) ends it
//! ([`toggle_bell`]).

use chrono::{DateTime, TimeDelta, Utc};

use super::model::{Deadline, Item, Meeting, Mode};
use super::phrases::{self, Proposal, ProposalKind};
use super::service::Service;
use super::{changes, humanize, ids, store};
use crate::markup;
use crate::outbox::{Key, MatrixOp, Report};

/// How much of the sentence a card quotes.
const QUOTE_BYTES: usize = 300;
const TITLE_BYTES: usize = 120;

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
    let sender = sender_of(cal, inbound_id).await?;
    let group = group.map(str::to_owned);
    let mut tx = cal.outbox.begin().await?;
    let today = match &sender {
        Some(s) => {
            let since = (now - TimeDelta::days(1)).timestamp_millis();
            store::proposals_from(&mut tx, s, since, inbound_id).await?
        }
        None => 0,
    };
    let left_today =
        usize::try_from((cal.s.proposals_per_sender_per_day - today).max(0)).unwrap_or(usize::MAX);
    let cap = cal.s.proposals_per_mail.min(left_today);
    for (i, p) in proposals.iter().enumerate().take(cap) {
        let dedup = format!("{inbound_id}:{i}");
        let (id, _) = store::add_proposal(
            &mut tx,
            &dedup,
            inbound_id,
            group.as_deref(),
            sender.as_deref(),
            p,
        )
        .await?;
        let card = card(p, group.as_deref(), now, tz);
        let room = cal.s.management_room.clone();
        tx.post(
            Key::Proposal(id),
            &room,
            crate::chat::notice_markdown(&card),
        )
        .await?;
    }
    if proposals.len() > cap {
        let why = if cap < cal.s.proposals_per_mail {
            format!(
                "at most {} a day come from one sender",
                cal.s.proposals_per_sender_per_day
            )
        } else {
            format!("at most {} are proposed per mail", cal.s.proposals_per_mail)
        };
        let text = format!(
            "📅 {} more dates in inbound mail #{inbound_id} were not proposed: {why}.",
            proposals.len() - cap
        );
        let key = Key::Notice(format!("proposals-capped-{inbound_id}"));
        tx.post(key, &cal.s.management_room, crate::chat::notice(&text))
            .await?;
    }
    tx.commit().await
}

/// The proposal's card: every value from the mail truncated, then escaped.
pub fn card(p: &Proposal, group: Option<&str>, now: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let kind = match p.kind {
        ProposalKind::Deadline => "deadline",
        ProposalKind::Meeting => "meeting",
    };
    let for_group = group
        .map(|g| format!(" ({})", humanize::group_label(g)))
        .unwrap_or_default();
    let how = match (p.kind, p.mode, &p.location) {
        (ProposalKind::Meeting, Some(Mode::Physical), Some(place)) => format!(
            " · in person, {}",
            markup::escape_markdown_line(&markup::truncate(place, TITLE_BYTES))
        ),
        (ProposalKind::Meeting, Some(Mode::Physical), None) => " · in person".to_owned(),
        (ProposalKind::Meeting, Some(Mode::Online), _) => " · online".to_owned(),
        _ => String::new(),
    };
    format!(
        "📅 **Proposed {kind}**{for_group}: {} — {}{how}\n> {}\n\nReact ✅ to add it to the calendar.",
        markup::escape_markdown_line(&markup::truncate(&p.title, TITLE_BYTES)),
        humanize::when(&p.when, now, tz),
        markup::escape_markdown_line(&markup::truncate(&p.sentence, QUOTE_BYTES))
    )
}

/// The sender of inbound mail `id` (its From address, else its envelope sender), lowercased;
/// `None` when the look-up is not wired or the mail says no address.
async fn sender_of(cal: &Service, id: i64) -> anyhow::Result<Option<String>> {
    let Some(raw_of) = &cal.wiring.inbound_raw else {
        return Ok(None);
    };
    let Some(raw) = raw_of(id).await? else {
        return Ok(None);
    };
    Ok(sender_in(&raw))
}

/// The address a raw mail is from, for counting: the From mailbox, else the envelope sender.
pub fn sender_in(raw: &[u8]) -> Option<String> {
    let msg = mail_parser::MessageParser::default().parse(raw)?;
    let identity = crate::mail::trust::identity(&msg);
    let address = match (identity.from, identity.envelope) {
        (Some(from), _) => from.to_string(),
        (None, crate::mail::trust::Envelope::Address(e)) => e.to_string(),
        _ => return None,
    };
    Some(address.to_lowercase())
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
            source: Some(format!(
                "mail: “{}”",
                markup::single_line(&markup::truncate(&p.sentence, QUOTE_BYTES))
            )),
            repeat: None,
        }),
        ProposalKind::Meeting => Item::Meeting(Meeting {
            id: item_id,
            title: p.title.clone(),
            groups,
            // What the mail says; online only when it says nothing (the secretariat edits).
            mode: p.mode.unwrap_or(Mode::Online),
            start: p.when.clone(),
            end: None,
            location: p.location.clone(),
            join_link: None,
            agenda: Vec::new(),
            minutes_link: None,
            cancelled: false,
            repeat: None,
        }),
    };
    changes::save(cal, &item, store::MAIL).await?;
    let text = format!(
        "✅ Added {} `{}` — **{}**, {}",
        item.kind(),
        item.id(),
        markup::escape_markdown_line(item.title()),
        humanize::when(item.when(), Utc::now(), cal.s.tz)
    );
    let mut tx = cal.outbox.begin().await?;
    tx.post(
        Key::ProposalAdded(id),
        room,
        crate::chat::notice_markdown(&text),
    )
    .await?;
    tx.commit().await
}

/// 🔔 by `user` on a reminder of the group `slug` (reaction event `event`): subscribes them
/// to its reminders by direct message, or ends the subscription they have; the answer comes
/// by direct message too (the Matrix transport finds or creates the DM room once).
pub async fn toggle_bell(cal: &Service, user: &str, slug: &str, event: &str) -> anyhow::Result<()> {
    let Some(group) = cal.s.groups.get(slug) else {
        return Ok(());
    };
    let mut tx = cal.outbox.begin().await?;
    let now_on = store::toggle_subscription(&mut tx, user, slug).await?;
    let text = if now_on {
        format!(
            "🔔 You will get the next {} reminders here. React 🔔 again on one (or say \
             `!unsubscribe {slug}`) to stop.",
            group.name
        )
    } else {
        format!(
            "🔕 No more {} reminders here. React 🔔 on one to have them again.",
            group.name
        )
    };
    let op = MatrixOp::DirectMessage {
        user: user.to_owned(),
        content: crate::chat::notice(&text),
    };
    // The same reaction delivered twice toggles once: its answer is already queued, and
    // dropping the transaction undoes the second toggle.
    if !tx
        .matrix(Key::Bell(event.to_owned()), op, None, Report::none())
        .await?
    {
        return Ok(());
    }
    tx.commit().await
}

#[cfg(test)]
mod tests;
