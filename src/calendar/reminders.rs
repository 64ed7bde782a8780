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
//! - **Catch-up**: [`classify_due`] says whether a reminder is on time (within
//!   [`ON_TIME_SLACK`]), late but within the grace period (fire, marked late), or too old
//!   (report, do not fire).

use std::fmt::Write as _;

use chrono::{DateTime, Days, NaiveDateTime, NaiveTime, SecondsFormat, TimeDelta, Utc};
use chrono_tz::Tz;

use super::datespec::{DateSpec, resolve_local};
use super::humanize;
use super::model::{Calendar, Item, ItemRef, Mode};

/// Local time that whole-day items count back from.
pub const ALL_DAY_ANCHOR: NaiveTime = NaiveTime::from_hms_opt(9, 0, 0).unwrap();

/// How far past its due time a firing still counts as on time.
pub const ON_TIME_SLACK: TimeDelta = TimeDelta::seconds(60);

pub use crate::config::{Offsets, format_offset, parse_offset};

/// One reminder to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reminder {
    /// Stable key, recorded before sending: `meeting:<id>:<offset-secs>:<due-rfc3339>`.
    pub key: String,
    pub item: ItemRef,
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

/// The reminders `item` calls for; whole days are read in `date_tz`.
pub fn reminders_for(item: &Item, offsets: &Offsets, date_tz: Tz) -> Vec<Reminder> {
    let (spec, list) = match item {
        Item::Meeting(m) if !m.cancelled => (&m.start, &offsets.meeting),
        Item::Call(c) => (&c.closes, &offsets.call_close),
        Item::Deadline(d) => (&d.due, &offsets.deadline),
        _ => return Vec::new(),
    };
    let (anchor, tz) = match spec {
        DateSpec::At { local, tz } => (*local, *tz),
        DateSpec::Day(d) => (d.and_time(ALL_DAY_ANCHOR), date_tz),
        DateSpec::Month(_) => return Vec::new(),
    };
    let at = resolve_local(tz, anchor).to_utc();
    let item_ref = item.item_ref();
    list.iter()
        .map(|&offset| {
            let due = count_back(anchor, tz, offset);
            let stamp = due.to_rfc3339_opts(SecondsFormat::Secs, true);
            let key = format!("{item_ref}:{}:{stamp}", offset.num_seconds());
            Reminder {
                key,
                item: item_ref.clone(),
                due,
                offset,
                at,
            }
        })
        .collect()
}

fn count_back(anchor: NaiveDateTime, tz: Tz, offset: TimeDelta) -> DateTime<Utc> {
    let days = offset.num_days();
    let rest = offset - TimeDelta::days(days);
    let local = anchor
        .checked_sub_days(Days::new(days.unsigned_abs()))
        .unwrap_or(anchor);
    resolve_local(tz, local).to_utc() - rest
}

/// Every reminder of the calendar, by due time then key.
pub fn all_reminders(cal: &Calendar, offsets: &Offsets, date_tz: Tz) -> Vec<Reminder> {
    let mut all: Vec<Reminder> = cal
        .items()
        .iter()
        .flat_map(|i| reminders_for(i, offsets, date_tz))
        .collect();
    all.sort_by(|a, b| (a.due, &a.key).cmp(&(b.due, &b.key)));
    all
}

/// Reminders due in `(after, until]`, in order: what a scheduler waking at `until` sends.
pub fn due_between(
    cal: &Calendar,
    offsets: &Offsets,
    date_tz: Tz,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<Reminder> {
    let mut due = all_reminders(cal, offsets, date_tz);
    due.retain(|r| r.due > after && r.due <= until);
    due
}

/// When the next reminder after `after` is due: what a scheduler sleeps until.
pub fn next_due(
    cal: &Calendar,
    offsets: &Offsets,
    date_tz: Tz,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    all_reminders(cal, offsets, date_tz)
        .into_iter()
        .map(|r| r.due)
        .find(|d| *d > after)
}

/// The reminder message, markdown. `late` adds a line saying when it was due.
pub fn render_reminder(
    reminder: &Reminder,
    item: &Item,
    now: DateTime<Utc>,
    tz: Tz,
    late: bool,
) -> String {
    let groups = humanize::groups_suffix(item.groups());
    let mut text = match item {
        Item::Meeting(m) => {
            let when = humanize::span(&m.start, m.end.as_ref(), now, tz);
            let mut s = format!("🔔 **{}**{groups} — {when}", m.title);
            match (m.mode, &m.location, &m.join_link) {
                (Mode::Physical, Some(place), _) => write!(s, "\nIn person: {place}").unwrap(),
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
            c.title,
            humanize::when(&c.closes, now, tz)
        ),
        Item::Deadline(d) => format!(
            "🔔 **Deadline: {}**{groups} — {}",
            d.title,
            humanize::when(&d.due, now, tz)
        ),
        Item::Milestone(m) => format!(
            "🔔 **{}**{groups} — {}",
            m.title,
            humanize::when(&m.when, now, tz)
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
