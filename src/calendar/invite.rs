//! A meeting's agenda mailed, with its invitation, to the members of its groups: on
//! `!meeting send <id>`, or `calendar.agenda_before` ahead of each meeting that has an agenda
//! (the scheduler).
//!
//! - The members' addresses come from the applications (the accepted applicants of the
//!   groups), read through [`Service::member_emails`]; an address that does not parse as one
//!   mailbox is skipped. Each member gets a mail of their own (no one sees another's
//!   address), keyed by (occurrence, revision, address): asking twice for the same version
//!   mails nobody twice, and a changed meeting can be sent again.
//! - The invitation is the whole series (METHOD:REQUEST, SEQUENCE = the item's revision), so
//!   the member's calendar shows every date; the text gives the occurrence's date, place and
//!   agenda with its documents.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;

use super::ics::{self, Party};
use super::model::{Item, Mode, Occurrence};
use super::service::Service;
use super::{agenda, humanize};
use crate::mail::compose::OutMail;
use crate::markup;
use crate::outbox::{Key, Report, Tx};

/// The text of the agenda mail for occurrence `occ`.
pub fn agenda_text(occ: &Occurrence, now: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    let Some(m) = occ.meeting() else {
        return String::new();
    };
    let mut text = format!(
        "{}\n{}\n",
        markup::single_line(&m.title),
        humanize::span(&m.start, m.end.as_ref(), now, tz)
    );
    match (m.mode, &m.location, &m.join_link) {
        (Mode::Physical, Some(place), _) => {
            writeln!(text, "In person: {}", markup::single_line(place)).unwrap()
        }
        (Mode::Physical, None, _) => text.push_str("In person\n"),
        (Mode::Online, _, Some(link)) => writeln!(text, "Online: {link}").unwrap(),
        (Mode::Online, _, None) => text.push_str("Online (link to follow)\n"),
    }
    if m.agenda.is_empty() {
        text.push_str("\nThe agenda is not out yet.\n");
    } else {
        text.push_str("\nAgenda\n");
        text.push_str(&agenda::plain(&m.agenda));
    }
    text.push_str("\nThe invitation is attached: accept it to add the meeting to your calendar.\n");
    text
}

/// Queues in `tx` one mail per member address in `emails`: the agenda of occurrence `occ` of
/// `item` and the invitation; returns for how many addresses (one already mailed this version
/// is not mailed again: the key is the same).
pub async fn mail_agenda(
    svc: &Service,
    tx: &mut Tx,
    item: &Item,
    occ: &Occurrence,
    rev: i64,
    emails: &[String],
    now: DateTime<Utc>,
) -> anyhow::Result<usize> {
    let (Item::Meeting(series), Some(m)) = (item, occ.meeting()) else {
        return Ok(0);
    };
    let from = svc.outbox.from();
    let organizer_email = from.address();
    let organizer = Party {
        name: from.name.as_deref(),
        email: &organizer_email,
    };
    let text = agenda_text(occ, now, svc.s.tz);
    let subject = format!(
        "Agenda: {} — {}",
        markup::single_line(&m.title),
        humanize::when(&m.start, now, svc.s.tz)
    );
    let sequence = u32::try_from(rev).unwrap_or(u32::MAX);
    let mut queued = 0;
    for email in emails {
        let Ok(to) = email.parse::<Mailbox>() else {
            tracing::warn!(meeting = %series.id, "a member's address does not parse; skipped");
            continue;
        };
        let address = to.email.to_string();
        let attendee = Party {
            name: None,
            email: &address,
        };
        let mail = OutMail {
            to: vec![address.clone()],
            subject: subject.clone(),
            text: text.clone(),
            auto_submitted: Some("auto-generated"),
            calendar: ics::meeting_invitation(series, sequence, &organizer, &attendee, now)
                .map(|ics| (ics, "REQUEST")),
            ..OutMail::default()
        };
        let key = Key::AgendaMail {
            occurrence: occ.id.clone(),
            rev,
            to: address.clone(),
        };
        tx.mail(key, &mail, Report::none()).await?;
        queued += 1;
    }
    Ok(queued)
}
