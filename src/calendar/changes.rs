//! When a meeting changes — moved, cancelled, another mode or place — by command, by a
//! reload of the calendar file or by an ICS import: telling the people concerned.
//!
//! - [`diff`] (pure) compares a meeting as stored before a write with the meeting after it,
//!   occurrence by occurrence from now on (a series over [`HORIZON`] from its next date), and lists
//!   what a member would want to know: moved (with the old and the new time), cancelled, on
//!   again, another mode or place. Past occurrences, titles, agendas and minutes are not news.
//! - [`save`] writes an item and, **in the same transaction**, queues under keys fixed by
//!   (item, revision): a notice in each room of its groups (those before and after the
//!   change), a direct message to each 🔔 subscriber of those groups (in their own zone, see
//!   `!tz`), and the invitation mailed again to each secretariat address — METHOD:REQUEST
//!   with the new revision as SEQUENCE, or METHOD:CANCEL for the whole meeting or for the
//!   occurrences cancelled. A crash before the commit loses the write and its messages
//!   together; after it, the outbox sends each once, however often the change is replayed.
//! - Reminders need no rescheduling of their own: their keys hold the occurrence's start
//!   (see [`reminders`](super::reminders)), so the old time's reminders are never computed
//!   again; and the scheduler checks, in each firing's own transaction, that the item is
//!   still at the revision it computed from ([`store::revision_in`]).
//! - [`sync_file`] / [`load_file`] (the calendar file, at start and whenever it changes) and
//!   [`import`] (`convene calendar import`) go through [`save`]; a meeting removed from the
//!   file counts as cancelled.

use std::collections::HashMap;
use std::fmt::Write as _;

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;

use super::humanize::{self, Zones};
use super::ics::{self, Party};
use super::model::{Calendar, Item, ItemRef, Meeting, Mode, Occurrence};
use super::service::Service;
use super::store::{self, Change, Saved};
use crate::mail::compose::OutMail;
use crate::markup;
use crate::outbox::{Key, MatrixOp, Report, Target, Tx};

/// How far a series is compared, from its next date: changes later than this are not
/// announced (they will be in the reminders).
pub const HORIZON: TimeDelta = TimeDelta::days(400);
/// At most this many occurrences of a series are compared.
const MAX_SCAN: usize = 500;
/// A notice lists at most this many changed occurrences, then counts the rest.
const MAX_LISTED: usize = 3;

/// What changed for one occurrence (or a one-off meeting).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OccurrenceChange {
    /// The occurrence's date in the series' rule; `None` for a one-off meeting.
    pub original: Option<NaiveDate>,
    /// As it read before; `None` when it is new (the rule now has it).
    pub before: Option<Meeting>,
    /// As it reads now; `None` when it is gone (the rule or the calendar no longer has it).
    pub after: Option<Meeting>,
}

fn live(m: &Option<Meeting>) -> Option<&Meeting> {
    m.as_ref().filter(|m| !m.cancelled)
}

impl OccurrenceChange {
    /// It was on and is no longer.
    pub fn cancelled(&self) -> bool {
        live(&self.before).is_some() && live(&self.after).is_none()
    }

    /// It is on now, and was not (cancelled, or not a date of the rule).
    pub fn on_again(&self) -> bool {
        live(&self.before).is_none() && live(&self.after).is_some()
    }

    /// On before and after, at another time.
    pub fn moved(&self) -> bool {
        match (live(&self.before), live(&self.after)) {
            (Some(b), Some(a)) => b.start != a.start || b.end != a.end,
            _ => false,
        }
    }

    /// On before and after, with another mode, place or join link.
    pub fn place_changed(&self) -> bool {
        match (live(&self.before), live(&self.after)) {
            (Some(b), Some(a)) => {
                b.mode != a.mode || b.location != a.location || b.join_link != a.join_link
            }
            _ => false,
        }
    }

    fn is_news(&self) -> bool {
        self.cancelled() || self.on_again() || self.moved() || self.place_changed()
    }
}

/// What changed between `old` and `new` (the same meeting, before and after a write), seen at
/// `now`; whole days are placed in `tz`. `new` is `None` when the meeting was removed.
pub fn diff(
    old: &Meeting,
    new: Option<&Meeting>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<OccurrenceChange> {
    let one_off = |m: &Meeting| m.repeat.is_none();
    if one_off(old) && new.is_none_or(one_off) {
        let past = |m: &Meeting| m.start.is_past(now, tz);
        if past(old) && new.is_none_or(past) {
            return Vec::new();
        }
        let change = OccurrenceChange {
            original: None,
            before: Some(old.clone()),
            after: new.cloned(),
        };
        return if change.is_news() {
            vec![change]
        } else {
            Vec::new()
        };
    }
    // One window for both sides, from now to HORIZON after the first date to come, so that a
    // series moved by a week does not seem to gain or lose dates at the window's end.
    let first = |m: &Meeting| {
        m.occurrences_from(now, tz)
            .next()
            .map(|o| o.start().start_utc(tz))
    };
    let Some(first) = [Some(old), new]
        .into_iter()
        .flatten()
        .filter_map(first)
        .min()
    else {
        return Vec::new();
    };
    let limit = first + HORIZON;
    let ahead = |m: &Meeting| -> Vec<(NaiveDate, Occurrence)> {
        m.occurrences_from(now, tz)
            .take_while(|o| o.start().start_utc(tz) < limit)
            .take(MAX_SCAN)
            .map(|o| (o.original.unwrap_or_else(|| o.start().first_day()), o))
            .collect()
    };
    let before = ahead(old);
    let after = new.map(ahead).unwrap_or_default();
    let meeting = |o: &Occurrence| o.meeting().cloned();
    let mut dates: Vec<NaiveDate> = before.iter().chain(&after).map(|(d, _)| *d).collect();
    dates.sort();
    dates.dedup();
    let find = |list: &[(NaiveDate, Occurrence)], d: NaiveDate| {
        list.iter()
            .find(|(x, _)| *x == d)
            .and_then(|(_, o)| meeting(o))
    };
    dates
        .into_iter()
        .map(|d| OccurrenceChange {
            original: Some(d),
            before: find(&before, d),
            after: find(&after, d),
        })
        .filter(OccurrenceChange::is_news)
        .collect()
}

/// How a text is written: Markdown for rooms (values escaped), plain for mail.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Markdown,
    Plain,
}

impl Style {
    fn text(self, s: &str) -> String {
        match self {
            Style::Markdown => markup::escape_markdown_line(s),
            Style::Plain => markup::single_line(s).into_owned(),
        }
    }

    fn bold(self, s: &str) -> String {
        match self {
            Style::Markdown => format!("**{}**", self.text(s)),
            Style::Plain => self.text(s),
        }
    }
}

/// "online", "in person, European Commission, Brussels".
fn place(m: &Meeting, style: Style) -> String {
    match (m.mode, &m.location) {
        (Mode::Online, _) => "online".to_owned(),
        (Mode::Physical, Some(l)) => format!("in person, {}", style.text(l)),
        (Mode::Physical, None) => "in person".to_owned(),
    }
}

/// The notice of `changes` to `meeting` (as it reads now, or as it was if removed), for a
/// reader in `z`.
fn render(
    meeting: &Meeting,
    changes: &[OccurrenceChange],
    now: DateTime<Utc>,
    z: Zones,
    style: Style,
) -> String {
    let today = now.with_timezone(&z.tz).date_naive();
    let groups = humanize::groups_suffix(&meeting.groups);
    let title = style.bold(&meeting.title);
    let series = meeting.repeat.is_some();
    if changes.iter().all(OccurrenceChange::cancelled) && (meeting.cancelled || series) {
        let whole = meeting.cancelled || changes.iter().all(|c| c.after.is_none());
        if whole && changes.len() > 1 {
            return format!(
                "❌ {title}{groups} is cancelled: no more meetings of this series ({} dates \
                 ahead, the next was {}).",
                changes.len(),
                changes[0]
                    .before
                    .as_ref()
                    .map(|m| humanize::span_plain_in(&m.start, m.end.as_ref(), today, z))
                    .unwrap_or_default()
            );
        }
    }
    let mut parts: Vec<String> = Vec::new();
    for c in changes.iter().take(MAX_LISTED) {
        let span = |m: &Meeting| humanize::span_in(&m.start, m.end.as_ref(), now, z);
        let plain = |m: &Meeting| humanize::span_plain_in(&m.start, m.end.as_ref(), today, z);
        let what = if c.original.is_some() {
            format!("{title}{groups} (one meeting of the series)")
        } else {
            format!("{title}{groups}")
        };
        let mut text = String::new();
        match (&c.before, &c.after) {
            (Some(b), _) if c.cancelled() => {
                write!(text, "❌ {what} is cancelled: {}", span(b)).unwrap();
            }
            (_, Some(a)) if c.on_again() => {
                write!(text, "✅ {what} is on: {} · {}", span(a), place(a, style)).unwrap();
            }
            (Some(b), Some(a)) if c.moved() => {
                write!(
                    text,
                    "🔁 {what} has moved.\nWas: {}\nNow: {}",
                    plain(b),
                    span(a)
                )
                .unwrap();
                if c.place_changed() {
                    write!(
                        text,
                        "\nWhere: {} (was {})",
                        place(a, style),
                        place(b, style)
                    )
                    .unwrap();
                } else {
                    write!(text, " · {}", place(a, style)).unwrap();
                }
            }
            (Some(b), Some(a)) => {
                write!(
                    text,
                    "📍 {what}, {}: now {} (was {})",
                    span(a),
                    place(a, style),
                    place(b, style)
                )
                .unwrap();
            }
            _ => continue,
        }
        if let Some(a) = live(&c.after)
            && a.join_link != live(&c.before).and_then(|b| b.join_link.clone())
            && let Some(link) = a.join_link.as_deref().filter(|l| super::agenda::is_link(l))
        {
            match style {
                Style::Markdown => write!(text, "\nJoin: <{link}>").unwrap(),
                Style::Plain => write!(text, "\nJoin: {link}").unwrap(),
            }
        }
        parts.push(text);
    }
    if changes.len() > MAX_LISTED {
        parts.push(format!(
            "… and {} more changes: `!meetings` lists them.",
            changes.len() - MAX_LISTED
        ));
    }
    parts.join("\n\n")
}

/// The subject of the mail to the secretariat.
fn subject(meeting: &Meeting, changes: &[OccurrenceChange], now: DateTime<Utc>, tz: Tz) -> String {
    let first = &changes[0];
    let word = if changes.iter().all(OccurrenceChange::cancelled) {
        "Cancelled"
    } else if changes.iter().all(OccurrenceChange::moved) {
        "Moved"
    } else {
        "Changed"
    };
    let when = live(&first.after)
        .or(first.before.as_ref())
        .map(|m| humanize::when(&m.start, now, tz))
        .unwrap_or_default();
    format!("{word}: {} — {when}", markup::single_line(&meeting.title))
}

/// Queues, in `tx`, what change `rev` of `old` into `new` (`None`: removed) causes; returns
/// whether there was anything to tell.
pub async fn notify(
    svc: &Service,
    tx: &mut Tx,
    old: &Item,
    new: Option<&Item>,
    rev: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let Item::Meeting(before) = old else {
        return Ok(false);
    };
    let after = match new {
        Some(Item::Meeting(m)) => Some(m),
        Some(_) => return Ok(false),
        None => None,
    };
    let s = &svc.s;
    let changes = diff(before, after, now, s.tz);
    if changes.is_empty() {
        return Ok(false);
    }
    // As it reads now; a removed meeting as cancelled.
    let shown: Meeting = after.cloned().unwrap_or_else(|| Meeting {
        cancelled: true,
        ..before.clone()
    });
    let item = old.item_ref().to_string();
    // Both the groups it had and those it has: a meeting moved to another group is news to
    // both.
    let groups: Vec<String> = if before.groups.is_empty() || shown.groups.is_empty() {
        Vec::new()
    } else {
        let mut g = before.groups.clone();
        g.extend(
            shown
                .groups
                .iter()
                .filter(|x| !before.groups.contains(x))
                .cloned(),
        );
        g
    };
    let room_text = render(&shown, &changes, now, s.tz.into(), Style::Markdown);
    for (slug, room) in s.groups.rooms_of(&groups) {
        let key = Key::Changed {
            item: item.clone(),
            rev,
            to: Target::Group(slug.to_owned()),
        };
        tx.post(key, room, crate::chat::notice_markdown(&room_text))
            .await?;
    }
    let zones = store::member_tzs(&mut **tx).await?;
    let mut told = std::collections::HashSet::new();
    for (user, group) in store::subscribers(&mut **tx).await? {
        if !(groups.is_empty() || groups.contains(&group)) || !told.insert(user.clone()) {
            continue;
        }
        let z = Zones::new(s.tz, zones.get(&user).copied());
        let text = render(&shown, &changes, now, z, Style::Markdown);
        let key = Key::Changed {
            item: item.clone(),
            rev,
            to: Target::Dm(user.clone()),
        };
        let op = MatrixOp::DirectMessage {
            user,
            content: crate::chat::notice_markdown(&text),
        };
        tx.matrix(key, op, None, Report::none()).await?;
    }
    let text = render(&shown, &changes, now, s.tz.into(), Style::Plain);
    let subject = subject(&shown, &changes, now, s.tz);
    let sequence = u32::try_from(rev).unwrap_or(u32::MAX);
    let cancelled_dates: Vec<NaiveDate> = changes
        .iter()
        .filter(|c| c.cancelled())
        .filter_map(|c| c.original)
        .collect();
    let only_cancellations = cancelled_dates.len() == changes.len();
    let from = svc.outbox.from();
    let organizer_email = from.address();
    let organizer = Party {
        name: from.name.as_deref(),
        email: &organizer_email,
    };
    for addr in &s.calendar.secretariat_email {
        let to: Mailbox = addr
            .parse()
            .with_context(|| format!("calendar.secretariat_email {addr:?}"))?;
        let email = to.email.to_string();
        let attendee = Party {
            name: to.name.as_deref(),
            email: &email,
        };
        let calendar = if shown.cancelled || shown.repeat.is_none() || !only_cancellations {
            ics::meeting_invitation(&shown, sequence, &organizer, &attendee, now)
        } else {
            ics::occurrences_cancel(
                &shown,
                &cancelled_dates,
                sequence,
                &organizer,
                &attendee,
                now,
            )
        };
        let calendar = calendar.map(|ics| {
            let method = if ics.contains("\r\nMETHOD:CANCEL\r\n") {
                "CANCEL"
            } else {
                "REQUEST"
            };
            (ics, method)
        });
        let mail = OutMail {
            to: vec![addr.clone()],
            subject: subject.clone(),
            text: text.clone(),
            auto_submitted: Some("auto-generated"),
            calendar,
            ..OutMail::default()
        };
        let key = Key::Invitation {
            item: item.clone(),
            rev,
            to: email.clone(),
        };
        tx.mail(key, &mail, Report::none()).await?;
    }
    Ok(true)
}

/// Writes `item` (from `source`) and tells people what changed; wakes the scheduler.
/// Returns what the store did, and whether anyone is told.
pub async fn save(svc: &Service, item: &Item, source: &str) -> anyhow::Result<(Saved, bool)> {
    let now = Utc::now();
    let mut tx = svc.outbox.begin().await?;
    let saved = store::upsert_in(&mut tx, item, source).await?;
    if source == store::FILE {
        store::set_file_version(&mut tx, item).await?;
    }
    let mut told = false;
    if saved.change == Change::Updated
        && let Some(old) = &saved.old
    {
        told = notify(svc, &mut tx, old, Some(item), saved.revision, now).await?;
    }
    tx.commit().await?;
    if saved.change != Change::Unchanged {
        svc.wake.notify_one();
    }
    Ok((saved, told))
}

/// Stores the calendar file's items, telling people of changed meetings; items once loaded
/// from the file and no longer in it are removed (a meeting among them as cancelled). Only
/// what the file changed since it was last loaded is written: an item the file left as it
/// was keeps what commands or imports made of it (and its source). Returns how many items
/// were added, changed or removed.
pub async fn sync_file(svc: &Service, cal: &Calendar) -> anyhow::Result<usize> {
    let now = Utc::now();
    let items = cal.items();
    let mut changed = 0;
    let mut tx = svc.outbox.begin().await?;
    let mut edited = Vec::new();
    for item in &items {
        // What the file did not change since it was last loaded stays as the store has it
        // (a meeting cancelled by command is not restored by a restart).
        let body = serde_json::to_string(item)?;
        if store::file_version(&mut tx, &item.item_ref())
            .await?
            .as_deref()
            != Some(&body)
        {
            edited.push(item);
        }
    }
    tx.commit().await?;
    for item in edited {
        if save(svc, item, store::FILE).await?.0.change != Change::Unchanged {
            changed += 1;
        }
    }
    let mut tx = svc.outbox.begin().await?;
    let wanted: HashMap<ItemRef, ()> = items.iter().map(|i| (i.item_ref(), ())).collect();
    for r in store::refs_from(&mut tx, store::FILE).await? {
        if wanted.contains_key(&r) {
            continue;
        }
        if let Some((old, rev)) = store::remove_in(&mut tx, &r, store::FILE).await? {
            notify(svc, &mut tx, &old, None, rev, now).await?;
            changed += 1;
        }
    }
    tx.commit().await?;
    if changed > 0 {
        svc.wake.notify_one();
    }
    Ok(changed)
}

/// The file's modification time and length, if it can be read.
pub fn stamp(path: &std::path::Path) -> Option<super::service::FileStamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Reads `calendar.file` (if configured) into the store through [`sync_file`].
pub async fn load_file(svc: &Service) -> anyhow::Result<usize> {
    let Some(path) = svc.s.file.as_deref() else {
        return Ok(0);
    };
    let seen = stamp(path);
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading calendar file {}", path.display()))?;
    // Remembered before parsing: a broken file is reported once, not at every check.
    *svc.file_stamp.lock().unwrap_or_else(|e| e.into_inner()) = seen;
    let cal = super::file::parse(&text)
        .map_err(|e| anyhow::anyhow!("calendar file {}: {e}", path.display()))?;
    sync_file(svc, &cal).await
}

/// Whether the file changed since it was last loaded.
pub fn file_changed(svc: &Service) -> bool {
    let Some(path) = svc.s.file.as_deref() else {
        return false;
    };
    let now = stamp(path);
    now.is_some() && now != *svc.file_stamp.lock().unwrap_or_else(|e| e.into_inner())
}

/// Stores imported items (`convene calendar import`), telling people of changed meetings;
/// returns how many were added or changed.
pub async fn import(svc: &Service, items: &[Item]) -> anyhow::Result<usize> {
    let mut changed = 0;
    for item in items {
        if save(svc, item, store::IMPORT).await?.0.change != Change::Unchanged {
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests;
