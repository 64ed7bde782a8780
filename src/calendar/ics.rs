//! iCalendar (RFC 5545): the subscribable feeds (`/calendar/<group>.ics`, `all.ics`,
//! `convene calendar export`), the invitation attached to meeting reminder mails, and import.
//!
//! Export choices:
//! - One VEVENT per item, UID `<kind>-<id>@convene`, SEQUENCE from the caller (the store's
//!   revision of the item), DTSTAMP from the caller (never the clock).
//! - Exact times carry `TZID` with a VTIMEZONE written from the zone's rules ([`vtimezone`]);
//!   zones it cannot describe are written in UTC.
//! - Whole days are `VALUE=DATE` with an exclusive DTEND. **Month-only items are kept, as an
//!   all-day event spanning the month** (1st to 1st of the next), TRANSP:TRANSPARENT, and for
//!   meetings STATUS:TENTATIVE — shown as "sometime in August" rather than dropped or pinned
//!   on the 1st.
//! - Meetings: LOCATION, URL (join link), DESCRIPTION with the agenda ("1. Title (decision)")
//!   and the minutes link; STATUS:CANCELLED when cancelled. Deadlines and milestones are
//!   instants (no DTEND) or whole days. Calls span opening to closing.
//! - Groups go in CATEGORIES; a few `X-CONVENE-*` properties (meeting mode, call kind and
//!   exact call dates) make our own feed import back unchanged.
//! - Lines are folded at 75 octets on character boundaries, with CRLF endings.
//! - A series is one VEVENT with RRULE and EXDATE, plus one VEVENT with the same UID and a
//!   RECURRENCE-ID per moved or changed occurrence (`recur`); import reads them back into
//!   one item.

use std::fmt::Write as _;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;

use super::datespec::{DateSpec, next_month};
use super::model::{Calendar, Item, ItemRef, Meeting, Mode};

mod import;
mod recur;
pub mod vtimezone;

pub use import::import_ics;

/// What a feed needs beyond the items.
#[derive(Clone, Debug)]
pub struct FeedOptions<'a> {
    /// Calendar name shown by clients (`X-WR-CALNAME`).
    pub name: &'a str,
    /// DTSTAMP of every event: when the feed was generated.
    pub dtstamp: DateTime<Utc>,
    /// Zone used to place whole days when a call mixes days and exact times.
    pub date_tz: Tz,
}

/// A party of an invitation.
#[derive(Clone, Copy, Debug)]
pub struct Party<'a> {
    pub name: Option<&'a str>,
    pub email: &'a str,
}

/// The feed of `cal`, or of the items concerning `group`; `sequence` gives each item's
/// revision.
pub fn export(
    cal: &Calendar,
    group: Option<&str>,
    sequence: &dyn Fn(&ItemRef) -> u32,
    opts: &FeedOptions<'_>,
) -> String {
    let items: Vec<Item> = cal
        .items()
        .into_iter()
        .filter(|i| i.concerns(group))
        .collect();
    let mut zones = Vec::new();
    let events: Vec<Vec<(String, String)>> = items
        .iter()
        .flat_map(|item| {
            events(
                item,
                sequence(&item.item_ref()),
                opts.dtstamp,
                opts.date_tz,
                &mut zones,
            )
        })
        .collect();
    let mut w = Writer::default();
    w.header("PUBLISH");
    w.raw("X-WR-CALNAME", &escape(opts.name));
    w.raw("X-WR-TIMEZONE", opts.date_tz.name());
    w.zones(&zones);
    for lines in events {
        w.event(&lines);
    }
    w.finish()
}

/// A METHOD:REQUEST calendar inviting `attendee` to `meeting` (METHOD:CANCEL once cancelled),
/// for the `text/calendar` part of a reminder mail. `None` for a month-only meeting, which has
/// no date to accept.
pub fn meeting_invitation(
    meeting: &Meeting,
    sequence: u32,
    organizer: &Party<'_>,
    attendee: &Party<'_>,
    dtstamp: DateTime<Utc>,
) -> Option<String> {
    if meeting.start.is_month_only() {
        return None;
    }
    let mut zones = Vec::new();
    let mut all = events(
        &Item::Meeting(meeting.clone()),
        sequence,
        dtstamp,
        chrono_tz::UTC,
        &mut zones,
    );
    // The series' own event carries the parties; its overrides inherit them in clients.
    let lines = &mut all[0];
    lines.push((
        format!("ORGANIZER{}", cn(organizer)),
        format!("mailto:{}", organizer.email),
    ));
    lines.push((
        format!(
            "ATTENDEE{};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=FALSE",
            cn(attendee)
        ),
        format!("mailto:{}", attendee.email),
    ));
    let mut w = Writer::default();
    w.header(if meeting.cancelled {
        "CANCEL"
    } else {
        "REQUEST"
    });
    w.zones(&zones);
    for lines in &all {
        w.event(lines);
    }
    Some(w.finish())
}

/// A METHOD:CANCEL calendar for the occurrences of series `meeting` originally on `dates`:
/// one VEVENT each, with the series' UID, its RECURRENCE-ID and STATUS:CANCELLED (RFC 5546
/// §3.2.5), so a client drops those dates and keeps the rest of the series. `None` for a
/// one-off or month-only meeting, or no dates.
pub fn occurrences_cancel(
    meeting: &Meeting,
    dates: &[NaiveDate],
    sequence: u32,
    organizer: &Party<'_>,
    attendee: &Party<'_>,
    dtstamp: DateTime<Utc>,
) -> Option<String> {
    if meeting.repeat.is_none() || meeting.start.is_month_only() || dates.is_empty() {
        return None;
    }
    let mut zones = Vec::new();
    let mut all = Vec::new();
    for day in dates {
        let original = meeting.start.on_date(*day);
        let mut p: Vec<(String, String)> = vec![
            ("UID".into(), format!("meeting-{}@convene", meeting.id)),
            (
                "DTSTAMP".into(),
                dtstamp.format("%Y%m%dT%H%M%SZ").to_string(),
            ),
            ("SEQUENCE".into(), sequence.to_string()),
            date_prop("RECURRENCE-ID", &original, &mut zones),
            date_prop("DTSTART", &original, &mut zones),
            ("SUMMARY".into(), escape(&meeting.title)),
            ("STATUS".into(), "CANCELLED".into()),
        ];
        p.push((
            format!("ORGANIZER{}", cn(organizer)),
            format!("mailto:{}", organizer.email),
        ));
        p.push((
            format!("ATTENDEE{};ROLE=REQ-PARTICIPANT", cn(attendee)),
            format!("mailto:{}", attendee.email),
        ));
        all.push(p);
    }
    let mut w = Writer::default();
    w.header("CANCEL");
    w.zones(&zones);
    for lines in &all {
        w.event(lines);
    }
    Some(w.finish())
}

fn cn(party: &Party<'_>) -> String {
    match party.name {
        Some(name) => format!(";CN=\"{}\"", name.replace(['"', '\r', '\n'], "")),
        None => String::new(),
    }
}

/// The VEVENTs of an item: one, or a series' own and one per override.
fn events(
    item: &Item,
    sequence: u32,
    dtstamp: DateTime<Utc>,
    date_tz: Tz,
    zones: &mut Vec<Tz>,
) -> Vec<Vec<(String, String)>> {
    let mut all = vec![event(item, sequence, dtstamp, date_tz, zones)];
    all.extend(recur::override_events(
        item, sequence, dtstamp, date_tz, zones,
    ));
    all
}

/// The property lines of one VEVENT: (name with parameters, value already escaped).
fn event(
    item: &Item,
    sequence: u32,
    dtstamp: DateTime<Utc>,
    date_tz: Tz,
    zones: &mut Vec<Tz>,
) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = vec![
        (
            "UID".into(),
            escape(&format!("{}-{}@convene", item.kind(), item.id())),
        ),
        (
            "DTSTAMP".into(),
            dtstamp.format("%Y%m%dT%H%M%SZ").to_string(),
        ),
        ("SEQUENCE".into(), sequence.to_string()),
        ("SUMMARY".into(), escape(item.title())),
    ];
    let mut date = |name: &str, spec: &DateSpec, p: &mut Vec<(String, String)>| {
        p.push(date_prop(name, spec, zones))
    };
    match item {
        Item::Meeting(m) => {
            date("DTSTART", &m.start, &mut p);
            match (&m.start, &m.end) {
                (_, Some(DateSpec::Day(e))) => p.push(day_prop(
                    "DTEND",
                    e.checked_add_days(Days::new(1)).unwrap_or(*e),
                )),
                (_, Some(end)) => date("DTEND", end, &mut p),
                (DateSpec::At { .. }, None) => {}
                (start, None) => p.push(day_prop("DTEND", exclusive_end(start))),
            }
            if let Some(repeat) = &m.repeat {
                p.extend(recur::rule_props(&m.start, repeat, zones));
            }
            if let Some(location) = &m.location {
                p.push(("LOCATION".into(), escape(location)));
            }
            if let Some(link) = &m.join_link {
                p.push(("URL".into(), uri(link)));
            }
            p.push(("DESCRIPTION".into(), escape(&describe(m))));
            let status = if m.cancelled {
                "CANCELLED"
            } else if m.start.is_month_only() {
                "TENTATIVE"
            } else {
                "CONFIRMED"
            };
            p.push(("STATUS".into(), status.into()));
            p.push(("X-CONVENE-MODE".into(), m.mode.as_str().into()));
        }
        Item::Deadline(d) => {
            date("DTSTART", &d.due, &mut p);
            if !d.due.is_exact() {
                p.push(day_prop("DTEND", exclusive_end(&d.due)));
            }
            if let Some(repeat) = &d.repeat {
                p.extend(recur::rule_props(&d.due, repeat, zones));
            }
            if let Some(source) = &d.source {
                p.push(("DESCRIPTION".into(), escape(&format!("Source: {source}"))));
            }
        }
        Item::Milestone(m) => {
            date("DTSTART", &m.when, &mut p);
            if !m.when.is_exact() {
                p.push(day_prop("DTEND", exclusive_end(&m.when)));
            }
            p.push(("TRANSP".into(), "TRANSPARENT".into()));
        }
        Item::Call(c) => {
            if c.opens.is_exact() == c.closes.is_exact() {
                date("DTSTART", &c.opens, &mut p);
                match &c.closes {
                    exact @ DateSpec::At { .. } => date("DTEND", exact, &mut p),
                    other => p.push(day_prop("DTEND", exclusive_end(other))),
                }
            } else {
                p.push(("DTSTART".into(), utc_stamp(c.opens.start_utc(date_tz))));
                p.push(("DTEND".into(), utc_stamp(c.closes.end_utc(date_tz))));
            }
            if let Some(link) = &c.link {
                p.push(("URL".into(), uri(link)));
            }
            p.push(("TRANSP".into(), "TRANSPARENT".into()));
            p.push(("X-CONVENE-CALL".into(), c.kind.as_str().to_owned()));
            p.push(("X-CONVENE-OPENS".into(), c.opens.to_string()));
            p.push(("X-CONVENE-CLOSES".into(), c.closes.to_string()));
        }
    }
    if !item.groups().is_empty() {
        let escaped: Vec<String> = item.groups().iter().map(|g| escape(g)).collect();
        p.push(("CATEGORIES".into(), escaped.join(",")));
    }
    p
}

/// The first day after a whole-day or month-only spec.
fn exclusive_end(spec: &DateSpec) -> NaiveDate {
    match spec {
        DateSpec::Month(d) => next_month(*d),
        other => other
            .first_day()
            .checked_add_days(Days::new(1))
            .unwrap_or(other.first_day()),
    }
}

fn date_prop(name: &str, spec: &DateSpec, zones: &mut Vec<Tz>) -> (String, String) {
    match spec {
        DateSpec::At { local, tz } if vtimezone::component(*tz).is_some() => {
            if !zones.contains(tz) {
                zones.push(*tz);
            }
            (
                format!("{name};TZID={}", tz.name()),
                local.format("%Y%m%dT%H%M%S").to_string(),
            )
        }
        DateSpec::At { .. } => (name.to_owned(), utc_stamp(spec.start_utc(chrono_tz::UTC))),
        other => day_prop(name, other.first_day()),
    }
}

fn day_prop(name: &str, day: NaiveDate) -> (String, String) {
    (
        format!("{name};VALUE=DATE"),
        day.format("%Y%m%d").to_string(),
    )
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// The meeting's DESCRIPTION; [`import`] reads the agenda and minutes lines back.
fn describe(m: &Meeting) -> String {
    let mut text = match (m.mode, &m.location, &m.join_link) {
        (Mode::Online, _, Some(link)) => format!("Online meeting: {link}"),
        (Mode::Online, _, None) => "Online meeting (link to follow)".to_owned(),
        (Mode::Physical, Some(place), _) => format!("In person: {place}"),
        (Mode::Physical, None, _) => "In person".to_owned(),
    };
    if !m.agenda.is_empty() {
        text.push_str("\n\nAgenda:");
        for a in &m.agenda {
            write!(text, "\n{}. {}", a.n, a.title).unwrap();
            if let Some(kind) = a.kind {
                write!(text, " ({})", kind.as_str()).unwrap();
            }
            // Documents on lines of their own, indented: [`import`] reads them back.
            for doc in a.docs.iter().filter(|d| super::agenda::is_link(d)) {
                write!(text, "\n   {doc}").unwrap();
            }
        }
    }
    if let Some(link) = &m.minutes_link {
        write!(text, "\n\nMinutes: {link}").unwrap();
    }
    text
}

/// A URI value (RFC 5545 §3.3.13) on one content line: control characters (a CR or LF would
/// start a property of the sender's choosing) are dropped; TEXT escaping does not apply.
fn uri(link: &str) -> String {
    link.chars().filter(|c| !c.is_control()).collect()
}

/// TEXT escaping (RFC 5545 §3.3.11).
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace(['\n', '\r'], "\\n")
}

/// Folds a content line: at most 75 octets per line, continuation lines starting with a space,
/// never splitting a UTF-8 character.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out
}

#[derive(Default)]
struct Writer {
    out: String,
}

impl Writer {
    fn line(&mut self, text: &str) {
        self.out.push_str(&fold(text));
        self.out.push_str("\r\n");
    }

    fn raw(&mut self, name: &str, value: &str) {
        self.line(&format!("{name}:{value}"));
    }

    fn header(&mut self, method: &str) {
        for line in [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//convene//calendar//EN",
            "CALSCALE:GREGORIAN",
        ] {
            self.line(line);
        }
        self.raw("METHOD", method);
    }

    fn zones(&mut self, zones: &[Tz]) {
        for line in zones
            .iter()
            .filter_map(|tz| vtimezone::component(*tz))
            .flatten()
        {
            self.line(&line);
        }
    }

    fn event(&mut self, props: &[(String, String)]) {
        self.line("BEGIN:VEVENT");
        for (name, value) in props {
            self.raw(name, value);
        }
        self.line("END:VEVENT");
    }

    fn finish(mut self) -> String {
        self.line("END:VCALENDAR");
        self.out
    }
}

#[cfg(test)]
mod tests;
