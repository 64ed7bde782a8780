//! Which reminders an item calls for, when each is due, how late a catch-up is, and the
//! reminder message.
//!
//! Choices:
//! - **Offsets count back in local time.** Whole days are calendar days on the wall clock, the
//!   rest is elapsed time: a 7-day reminder for 10:00 on 2 Apr 2026 (CEST) is due 10:00 on
//!   26 Mar (CET), i.e. 09:00 UTC, not 168 hours earlier. A due time falling in a DST gap or
//!   fold resolves as everywhere else ([`resolve_local`]).
//! - **Whole-day items** (a deadline "3 May 2023", a call closing "15 September 2023") count
//!   back from 09:00 on that day in the calendar zone, so "1 day before" arrives at 09:00 on
//!   the eve rather than at midnight. The item itself stays open until the end of its day
//!   ([`DateSpec::is_past`]).
//! - **Month-only items, milestones and cancelled meetings get no reminders.** Calls are
//!   reminded before they close.
//! - **Keys** are stable and change when the date does: `meeting:<id>:<offset-secs>:<due>`
//!   with the due instant in RFC 3339 UTC; a moved meeting yields new keys, so its reminders
//!   fire again for the new date, and an unchanged one never twice.
//! - **Series** are reminded per occurrence, with keys
//!   `meeting:<id>@<original date>:<at>:<offset-secs>:<due>`: the occurrence id, then the
//!   instant its reminders count back from (its actual start, or 09:00 on its day). Moving one
//!   occurrence gives it new keys and its old time no reminder at all; cancelling it removes
//!   its reminders. [`due_between`] and [`next_due`] expand a series only over the occurrences
//!   whose reminders can fall in the window asked about (the longest offset plus a day of
//!   slack for DST), so an open-ended series costs what its window holds.
//! - **Personal reminders** (`!remind me`) and **snoozes** are the stored ones: their due
//!   time is computed here ([`personal`]) from the occurrence as it reads at each pass, so
//!   they follow a move; [`occurrence_of_key`] reads back which occurrence a key reminds of.
//! - **Catch-up**: [`classify_due`] says whether a reminder is on time (within
//!   [`ON_TIME_SLACK`]), late but within the grace period (fire, marked late), or too old
//!   (report, do not fire).

use std::fmt::Write as _;

use chrono::{DateTime, Days, NaiveDateTime, NaiveTime, SecondsFormat, TimeDelta, Utc};
use chrono_tz::Tz;

use super::datespec::{DateSpec, resolve_local};
use super::humanize::{self, Zones};
use super::model::{Calendar, Item, ItemKind, ItemRef, Mode, Occurrence};

/// Local time that whole-day items count back from.
pub const ALL_DAY_ANCHOR: NaiveTime = NaiveTime::from_hms_opt(9, 0, 0).unwrap();

/// How far past its due time a firing still counts as on time.
pub const ON_TIME_SLACK: TimeDelta = TimeDelta::seconds(60);

pub use crate::config::{Offsets, format_offset, parse_offset};

/// One reminder to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    /// Stable key, recorded before sending: `meeting:<id>:<offset-secs>:<due-rfc3339>`, or
    /// for an occurrence of a series `meeting:<id>@<date>:<at-rfc3339>:<offset-secs>:<due>`.
    pub key: String,
    /// The stored item (the series, for an occurrence).
    pub item: ItemRef,
    /// The occurrence of a series this reminds of (`<id>@<original date>`); `None` for a
    /// one-off item. [`render_reminder`] renders that occurrence's own date and details.
    pub occurrence: Option<String>,
    /// When to send it.
    pub due: DateTime<Utc>,
    pub offset: TimeDelta,
    /// The instant the offset counts back from (09:00 on the day for whole-day items).
    pub at: DateTime<Utc>,
}

/// Whether a reminder should go out at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    NotYet,
    OnTime,
    /// Missed (the daemon was down) but within the grace period: send, marked late.
    Late,
    /// Missed by more than the grace period: report, do not send.
    TooOld,
}

/// Classifies a reminder due at `due` when looked at `now`.
pub fn classify_due(due: DateTime<Utc>, now: DateTime<Utc>, grace: TimeDelta) -> Due {
    let behind = now - due;
    if behind < TimeDelta::zero() {
        Due::NotYet
    } else if behind <= ON_TIME_SLACK {
        Due::OnTime
    } else if behind <= grace {
        Due::Late
    } else {
        Due::TooOld
    }
}

/// The reminders `item` calls for, occurrence after occurrence (lazily: without end for an
/// open series); whole days are read in `date_tz`.
pub fn reminders_for<'a>(
    item: &'a Item,
    offsets: &'a Offsets,
    date_tz: Tz,
) -> impl Iterator<Item = Reminder> + 'a {
    item.occurrences_from(DateTime::<Utc>::MIN_UTC, date_tz)
        .flat_map(move |o| occurrence_reminders(&o, offsets, date_tz))
}

/// The reminders of one occurrence: none for a cancelled one, a month-only date or a
/// milestone.
pub fn occurrence_reminders(occ: &Occurrence, offsets: &Offsets, date_tz: Tz) -> Vec<Reminder> {
    let list = match &occ.item {
        Item::Meeting(_) => &offsets.meeting,
        Item::Call(_) => &offsets.call_close,
        Item::Deadline(_) => &offsets.deadline,
        Item::Milestone(_) => return Vec::new(),
    };
    let Some((anchor, tz)) = anchor(occ, date_tz) else {
        return Vec::new();
    };
    let item = &occ.item;
    let at = resolve_local(tz, anchor).to_utc();
    let item_ref = item.item_ref();
    let occurrence = occ.original.map(|_| occ.id.clone());
    // One-off keys keep their old form, so firings already recorded still match.
    let prefix = match &occurrence {
        None => item_ref.to_string(),
        Some(id) => format!("{}:{id}:{}", item_ref.kind, stamp(at)),
    };
    list.iter()
        .map(|&offset| {
            let due = count_back(anchor, tz, offset);
            Reminder {
                key: format!("{prefix}:{}:{}", offset.num_seconds(), stamp(due)),
                item: item_ref.clone(),
                occurrence: occurrence.clone(),
                due,
                offset,
                at,
            }
        })
        .collect()
}

/// The local time an occurrence's reminders count back from, in its zone: its start (a
/// call's closing), or 09:00 on its day; none for a cancelled occurrence, a month-only date or
/// a milestone.
fn anchor(occ: &Occurrence, date_tz: Tz) -> Option<(NaiveDateTime, Tz)> {
    if occ.cancelled {
        return None;
    }
    let spec = match &occ.item {
        Item::Meeting(m) if !m.cancelled => &m.start,
        Item::Call(c) => &c.closes,
        Item::Deadline(d) => &d.due,
        _ => return None,
    };
    match spec {
        DateSpec::At { local, tz } => Some((*local, *tz)),
        DateSpec::Day(d) => Some((d.and_time(ALL_DAY_ANCHOR), date_tz)),
        DateSpec::Month(_) => None,
    }
}

/// Personal reminder `id` (`!remind me`) of `occ`, `offset` before it: keyed
/// `personal:<id>:<at>`, so that a move of the occurrence gives it a new key and its old time
/// none. `None` when the occurrence is cancelled or has no time to count back from.
pub fn personal(id: i64, occ: &Occurrence, offset: TimeDelta, date_tz: Tz) -> Option<Reminder> {
    let (anchor, tz) = anchor(occ, date_tz)?;
    let at = resolve_local(tz, anchor).to_utc();
    Some(Reminder {
        key: format!("personal:{id}:{}", stamp(at)),
        item: occ.item_ref(),
        occurrence: occ.original.map(|_| occ.id.clone()),
        due: count_back(anchor, tz, offset),
        offset,
        at,
    })
}

/// The occurrence a reminder key reminds of (an occurrence id, or a one-off item's id), for
/// the keys [`occurrence_reminders`] makes; `None` for others (a personal reminder's key
/// names its stored row instead: `personal:<id>:…`).
pub fn occurrence_of_key(key: &str) -> Option<ItemRef> {
    let (kind, rest) = key.split_once(':')?;
    let kind = ItemKind::parse(kind)?;
    let id = rest.split(':').next().filter(|id| !id.is_empty())?;
    Some(ItemRef {
        kind,
        id: id.to_owned(),
    })
}

/// The stored row of a personal reminder's key (`personal:<id>:…`).
pub fn personal_id(key: &str) -> Option<i64> {
    key.strip_prefix("personal:")?
        .split(':')
        .next()?
        .parse()
        .ok()
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn count_back(anchor: NaiveDateTime, tz: Tz, offset: TimeDelta) -> DateTime<Utc> {
    let days = offset.num_days();
    let rest = offset - TimeDelta::days(days);
    let local = anchor
        .checked_sub_days(Days::new(days.unsigned_abs()))
        .unwrap_or(anchor);
    resolve_local(tz, local).to_utc() - rest
}

/// How far before an occurrence's start its earliest reminder can be due: the longest offset,
/// plus a day for DST and for whole days counting back from 09:00.
fn reach(offsets: &Offsets) -> TimeDelta {
    let longest = [&offsets.meeting, &offsets.call_close, &offsets.deadline]
        .into_iter()
        .flatten()
        .max()
        .copied()
        .unwrap_or_default();
    longest + TimeDelta::days(1)
}

/// Whether an item can have a reminder at all: a series that cannot must not be walked in
/// search of one.
fn reminded(item: &Item, offsets: &Offsets) -> bool {
    match item {
        Item::Meeting(m) => !m.cancelled && !offsets.meeting.is_empty(),
        Item::Deadline(_) => !offsets.deadline.is_empty(),
        Item::Call(_) => !offsets.call_close.is_empty(),
        Item::Milestone(_) => false,
    }
}

/// The occurrences of a series that may have a reminder due after `after`, in order: a
/// reminder is never due after its occurrence starts, nor before it by more than [`reach`].
fn series_occurrences<'a>(
    item: &'a Item,
    after: DateTime<Utc>,
    date_tz: Tz,
) -> impl Iterator<Item = Occurrence> + 'a {
    item.occurrences_from(after - TimeDelta::days(1), date_tz)
}

/// Reminders due in `(after, until]`, in order: what a scheduler waking at `until` sends.
/// Series are expanded over that window only; calling this over consecutive windows yields
/// every reminder once.
pub fn due_between(
    cal: &Calendar,
    offsets: &Offsets,
    date_tz: Tz,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<Reminder> {
    let in_window = |r: &Reminder| r.due > after && r.due <= until;
    let last_start = until + reach(offsets);
    let mut due = Vec::new();
    for item in cal.items() {
        if item.repeat().is_none() {
            due.extend(reminders_for(&item, offsets, date_tz).filter(in_window));
        } else if reminded(&item, offsets) {
            let occurrences = series_occurrences(&item, after, date_tz)
                .take_while(|o| o.start().start_utc(date_tz) <= last_start);
            for o in occurrences {
                due.extend(
                    occurrence_reminders(&o, offsets, date_tz)
                        .into_iter()
                        .filter(in_window),
                );
            }
        }
    }
    due.sort_by(|a, b| (a.due, &a.key).cmp(&(b.due, &b.key)));
    due
}

/// When the next reminder after `after` is due: what a scheduler sleeps until.
pub fn next_due(
    cal: &Calendar,
    offsets: &Offsets,
    date_tz: Tz,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let reach = reach(offsets);
    let mut best: Option<DateTime<Utc>> = None;
    let consider = |due: DateTime<Utc>, best: &mut Option<DateTime<Utc>>| {
        if due > after && best.is_none_or(|b| due < b) {
            *best = Some(due);
        }
    };
    for item in cal.items() {
        if item.repeat().is_none() {
            for r in reminders_for(&item, offsets, date_tz) {
                consider(r.due, &mut best);
            }
            continue;
        }
        if !reminded(&item, offsets) {
            continue;
        }
        for o in series_occurrences(&item, after, date_tz) {
            // Later occurrences' reminders are all due after the best found so far.
            if best.is_some_and(|b| o.start().start_utc(date_tz) - reach > b) {
                break;
            }
            for r in occurrence_reminders(&o, offsets, date_tz) {
                consider(r.due, &mut best);
            }
        }
    }
    best
}

/// The reminder message, markdown. `late` adds a line saying when it was due.
pub fn render_reminder(
    reminder: &Reminder,
    item: &Item,
    now: DateTime<Utc>,
    tz: Tz,
    late: bool,
) -> String {
    render_reminder_in(reminder, item, now, tz.into(), late)
}

/// [`render_reminder`] for a reader with their own zone (a direct message): their time of the
/// occurrence beside the calendar's. Titles and places are escaped (a title may come from a
/// proposal read in a mail).
pub fn render_reminder_in(
    reminder: &Reminder,
    item: &Item,
    now: DateTime<Utc>,
    z: Zones,
    late: bool,
) -> String {
    let tz = z.tz;
    let esc = crate::markup::escape_markdown_line;
    // A series' reminder speaks of its occurrence: that date, that room, that title.
    let occurrence = reminder
        .occurrence
        .as_deref()
        .and_then(|id| item.occurrence(id));
    let item = occurrence.as_ref().map_or(item, |o| &o.item);
    let groups = humanize::groups_suffix(item.groups());
    let mut text = match item {
        Item::Meeting(m) => {
            let when = humanize::span_in(&m.start, m.end.as_ref(), now, z);
            let mut s = format!("🔔 **{}**{groups} — {when}", esc(&m.title));
            match (m.mode, &m.location, &m.join_link) {
                (Mode::Physical, Some(place), _) => {
                    write!(s, "\nIn person: {}", esc(place)).unwrap()
                }
                (Mode::Online, _, Some(link)) => write!(s, "\nOnline: {link}").unwrap(),
                (Mode::Online, _, None) => s.push_str("\nOnline (link to follow)"),
                _ => {}
            }
            if !m.agenda.is_empty() {
                write!(s, " · agenda: `!agenda {}`", m.id).unwrap();
            }
            s
        }
        Item::Call(c) => format!(
            "🔔 **{}**{groups} closes {}",
            esc(&c.title),
            humanize::when_in(&c.closes, now, z)
        ),
        Item::Deadline(d) => format!(
            "🔔 **Deadline: {}**{groups} — {}",
            esc(&d.title),
            humanize::when_in(&d.due, now, z)
        ),
        Item::Milestone(m) => format!(
            "🔔 **{}**{groups} — {}",
            esc(&m.title),
            humanize::when_in(&m.when, now, z)
        ),
    };
    if late {
        let due = reminder.due.with_timezone(&tz);
        write!(
            text,
            "\n_Sent late: due {}, {} {}._",
            due.format("%a %-d %b"),
            due.format("%H:%M"),
            humanize::tz_label(tz)
        )
        .unwrap();
    }
    text
}

#[cfg(test)]
mod tests;
