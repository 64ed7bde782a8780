//! `convene calendar import FILE.ics`: VEVENTs into calendar items.
//!
//! - Our own feed (UID `<kind>-<id>@convene`) comes back as the items it was made from: kind
//!   and id from the UID, mode and call dates from the `X-CONVENE-*` properties, agenda and
//!   minutes from the DESCRIPTION lines the export writes.
//! - Other events become **meetings when they last** (a time of day with a positive DTEND or
//!   DURATION, or several whole days) and **deadlines otherwise** (an instant, one whole day,
//!   a month). Their id is the UID made slug-safe (or, if long, the title, the date and a hash
//!   of the UID). Physical if LOCATION names a place; online if it is empty or a link.
//! - DTSTART with TZID (IANA names, and the few Windows names Outlook writes for Brussels and
//!   its neighbours), UTC (read in `default_tz`), floating (read in `default_tz`) or VALUE=DATE;
//!   an all-day event from the 1st to the 1st of the next month is month-only.
//! - CATEGORIES that are group slugs become groups; STATUS:CANCELLED marks a meeting cancelled
//!   and drops other kinds.
//! - A meeting or deadline with RRULE becomes a series; EXDATEs and the VEVENTs with the same
//!   UID and a RECURRENCE-ID become its exceptions (`recur`). A rule outside
//!   the model is an error naming the event, not a series with other dates. An override whose
//!   series is not in the file is skipped.

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Datelike, Days, TimeDelta, Utc};
use chrono_tz::Tz;
use icalendar::{
    CalendarComponent, CalendarDateTime, Component, DatePerhapsTime, Event, EventLike, EventStatus,
};

use super::recur;
use crate::calendar::datespec::{DateSpec, next_month, resolve_local};
use crate::calendar::model::{
    AgendaItem, AgendaKind, Call, CallKind, Deadline, Item, ItemKind, Meeting, Milestone, Mode,
    derive_id, slugify,
};

/// Reads the VEVENTs of an iCalendar text; see the module docs for how each becomes an item.
pub fn import_ics(text: &str, default_tz: Tz) -> Result<Vec<Item>> {
    let cal: icalendar::Calendar = text
        .parse()
        .map_err(|e| anyhow!("not an iCalendar file: {e}"))?;
    let mut items: Vec<(Option<String>, Item)> = Vec::new();
    let events = cal.components.iter().filter_map(|c| match c {
        CalendarComponent::Event(event) => Some(event),
        _ => None,
    });
    // Series first, so that their overrides (anywhere in the file) find them.
    let (overrides, masters): (Vec<&Event>, Vec<&Event>) =
        events.partition(|e| e.property_value("RECURRENCE-ID").is_some());
    for event in masters {
        if let Some(item) = convert(event, default_tz).with_context(|| name(event))? {
            items.push((event.get_uid().map(str::to_owned), item));
        }
    }
    for event in overrides {
        let series = items.iter_mut().find(|(uid, item)| {
            uid.is_some() && uid.as_deref() == event.get_uid() && item.repeat().is_some()
        });
        if let Some((_, item)) = series {
            recur::apply_override(item, event, default_tz).with_context(|| name(event))?;
        }
    }
    items
        .into_iter()
        .map(|(uid, mut item)| {
            recur::check(&mut item)
                .with_context(|| format!("event {:?}", uid.as_deref().unwrap_or(item.title())))?;
            Ok(item)
        })
        .collect()
}

fn name(event: &Event) -> String {
    let name = event
        .get_uid()
        .or(event.get_summary())
        .unwrap_or("(no UID)");
    format!("event {name:?}")
}

fn convert(event: &Event, default_tz: Tz) -> Result<Option<Item>> {
    let title = event
        .get_summary()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("(untitled)")
        .to_owned();
    let start_raw = event.get_start().ok_or_else(|| anyhow!("no DTSTART"))?;
    let start = spec(start_raw.clone(), default_tz)?;
    let end = match (event.get_end(), event.property_value("DURATION")) {
        (Some(end), _) => Some(spec(end, default_tz)?),
        (None, Some(duration)) => Some(add_duration(&start, duration)?),
        (None, None) => None,
    };
    let cancelled = event.get_status() == Some(EventStatus::Cancelled);
    let groups: Vec<String> = event
        .get_categories()
        .unwrap_or_default()
        .into_iter()
        .map(|g| g.trim().to_owned())
        .filter(|g| {
            !g.is_empty()
                && g.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        .collect();
    let description = event.get_description().unwrap_or_default();
    let (start, end) = normalise_span(start, end);
    let (kind, id) = match ours(event.get_uid()) {
        Some(found) => found,
        None => {
            let lasts = match (&start, &end) {
                (DateSpec::At { .. }, Some(e)) => e != &start,
                (DateSpec::Day(_), Some(_)) => true,
                _ => false,
            };
            let kind = if lasts {
                ItemKind::Meeting
            } else {
                ItemKind::Deadline
            };
            (kind, foreign_id(event.get_uid(), &title, &start))
        }
    };
    if cancelled && kind != ItemKind::Meeting {
        return Ok(None);
    }
    let repeat = recur::read_rule(event, &start, default_tz)?;
    if repeat.is_some() && !matches!(kind, ItemKind::Meeting | ItemKind::Deadline) {
        bail!("a {kind} cannot repeat");
    }
    let item = match kind {
        ItemKind::Meeting => Item::Meeting(Meeting {
            repeat,
            ..meeting(event, id, title, groups, start, end, description, cancelled)
        }),
        ItemKind::Deadline => {
            let source = line_after(description, "Source: ").map(str::to_owned);
            Item::Deadline(Deadline {
                id,
                title,
                due: start,
                groups,
                source,
                repeat,
            })
        }
        ItemKind::Milestone => Item::Milestone(Milestone {
            id,
            title,
            when: start,
            groups,
        }),
        ItemKind::Call => {
            let exact = |key: &str| {
                event
                    .property_value(key)
                    .map(|v| DateSpec::parse(v, default_tz))
                    .transpose()
            };
            let opens = exact("X-CONVENE-OPENS")?.unwrap_or_else(|| start.clone());
            let closes = exact("X-CONVENE-CLOSES")?
                .or(end)
                .unwrap_or_else(|| start.clone());
            let kind = match event.property_value("X-CONVENE-CALL") {
                Some("partnership") => CallKind::Partnership,
                _ => CallKind::Members,
            };
            Item::Call(Call {
                id,
                title,
                groups,
                kind,
                opens,
                closes,
                link: event.get_url().map(str::to_owned),
            })
        }
    };
    Ok(Some(item))
}

#[allow(clippy::too_many_arguments)]
pub(super) fn meeting(
    event: &Event,
    id: String,
    title: String,
    groups: Vec<String>,
    start: DateSpec,
    end: Option<DateSpec>,
    description: &str,
    cancelled: bool,
) -> Meeting {
    let location = event
        .get_location()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned);
    let is_link = |s: &str| s.starts_with("http://") || s.starts_with("https://");
    let mode = match event.property_value("X-CONVENE-MODE") {
        Some("online") => Mode::Online,
        Some("physical") => Mode::Physical,
        _ => match &location {
            Some(l) if !is_link(l) && !l.to_lowercase().contains("online") => Mode::Physical,
            _ => Mode::Online,
        },
    };
    let mut join_link = event.get_url().map(str::to_owned);
    let location = match location {
        Some(l) if is_link(&l) => {
            join_link.get_or_insert(l);
            None
        }
        other => other,
    };
    let agenda = description
        .split("\n\n")
        .find_map(|block| block.strip_prefix("Agenda:"))
        .map(agenda_block)
        .unwrap_or_default();
    let minutes_link = line_after(description, "Minutes: ").map(str::to_owned);
    let end =
        end.filter(|e| !(matches!(start, DateSpec::Month(_)) || (!e.is_exact() && *e == start)));
    Meeting {
        id,
        title,
        groups,
        mode,
        start,
        end,
        location,
        join_link,
        agenda,
        minutes_link,
        cancelled,
        repeat: None,
    }
}

/// The lines of the DESCRIPTION's agenda block: points, each followed by its documents on
/// indented lines of their own.
fn agenda_block(block: &str) -> Vec<AgendaItem> {
    let mut out: Vec<AgendaItem> = Vec::new();
    for line in block.lines() {
        let doc = line.trim();
        if line.starts_with(char::is_whitespace) && crate::calendar::agenda::is_link(doc) {
            if let Some(last) = out.last_mut() {
                last.docs.push(doc.to_owned());
            }
        } else if let Some(item) = agenda_line(line) {
            out.push(item);
        }
    }
    out
}

/// `1.2. Adoption of the agenda (decision)` → an agenda item.
pub(super) fn agenda_line(line: &str) -> Option<AgendaItem> {
    let (n, rest) = line.trim().split_once(". ")?;
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let (title, kind) = match rest.rsplit_once(" (") {
        Some((title, tail)) => match tail.strip_suffix(')').and_then(AgendaKind::parse) {
            Some(kind) => (title, Some(kind)),
            None => (rest, None),
        },
        None => (rest, None),
    };
    Some(AgendaItem {
        n: n.to_owned(),
        title: title.to_owned(),
        kind,
        docs: Vec::new(),
    })
}

fn line_after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .map(str::trim)
}

/// `(kind, id)` from a UID of our own feed.
fn ours(uid: Option<&str>) -> Option<(ItemKind, String)> {
    let inner = uid?.strip_suffix("@convene")?;
    let (kind, id) = inner.split_once('-')?;
    Some((ItemKind::parse(kind)?, id.to_owned()))
}

fn foreign_id(uid: Option<&str>, title: &str, start: &DateSpec) -> String {
    match uid.map(slugify) {
        Some(slug) if !slug.is_empty() && slug.len() < 60 => slug,
        Some(_) | None => {
            // FNV-1a: a short, stable hash of the UID, so that re-importing keeps ids.
            let hash = uid
                .unwrap_or(title)
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
                });
            format!("{}-{:08x}", derive_id(title, start), hash as u32)
        }
    }
}

/// A DTSTART/DTEND value as a spec.
pub(super) fn spec(value: DatePerhapsTime, default_tz: Tz) -> Result<DateSpec> {
    Ok(match value {
        DatePerhapsTime::Date(d) => DateSpec::Day(d),
        DatePerhapsTime::DateTime(CalendarDateTime::Floating(local)) => DateSpec::At {
            local,
            tz: default_tz,
        },
        DatePerhapsTime::DateTime(CalendarDateTime::Utc(t)) => in_zone(t, default_tz),
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { date_time, tzid }) => {
            DateSpec::At {
                local: date_time,
                tz: zone(&tzid)?,
            }
        }
    })
}

/// A UTC instant as local time in `tz`, unless that local time would read back as another
/// instant (the second 02:30 of an autumn night), in which case it stays in UTC.
pub(super) fn in_zone(t: DateTime<Utc>, tz: Tz) -> DateSpec {
    let local = t.with_timezone(&tz).naive_local();
    if resolve_local(tz, local).to_utc() == t {
        DateSpec::At { local, tz }
    } else {
        DateSpec::At {
            local: t.naive_utc(),
            tz: chrono_tz::UTC,
        }
    }
}

pub(super) fn zone(tzid: &str) -> Result<Tz> {
    let name = tzid.trim().trim_start_matches('/');
    let windows = match name {
        "Romance Standard Time" => "Europe/Brussels",
        "W. Europe Standard Time" => "Europe/Berlin",
        "Central Europe Standard Time" => "Europe/Budapest",
        "Central European Standard Time" => "Europe/Warsaw",
        "GMT Standard Time" => "Europe/London",
        "E. Europe Standard Time" | "FLE Standard Time" => "Europe/Helsinki",
        "GTB Standard Time" => "Europe/Athens",
        "UTC" | "Coordinated Universal Time" => "UTC",
        other => other,
    };
    windows
        .parse()
        .map_err(|_| anyhow!("unknown time zone {tzid:?}"))
}

/// End-exclusive whole days back to the model's inclusive last day; a month span to a month.
pub(super) fn normalise_span(
    start: DateSpec,
    end: Option<DateSpec>,
) -> (DateSpec, Option<DateSpec>) {
    match (start, end) {
        (DateSpec::Day(s), Some(DateSpec::Day(e))) if s.day0() == 0 && e == next_month(s) => {
            (DateSpec::Month(s), None)
        }
        (DateSpec::Day(s), Some(DateSpec::Day(e))) => {
            let last = e.pred_opt().filter(|l| *l > s);
            (DateSpec::Day(s), last.map(DateSpec::Day))
        }
        (DateSpec::At { local, tz }, Some(end)) => {
            // The model keeps a meeting's end in the start's zone.
            let end_local = end.start_utc(tz).with_timezone(&tz).naive_local();
            (
                DateSpec::At { local, tz },
                Some(DateSpec::At {
                    local: end_local,
                    tz,
                }),
            )
        }
        (start, end) => (start, end),
    }
}

/// DTSTART + DURATION (`PT1H30M`, `P1D`, `P2W`).
pub(super) fn add_duration(start: &DateSpec, text: &str) -> Result<DateSpec> {
    let body = text
        .trim()
        .strip_prefix('P')
        .ok_or_else(|| anyhow!("DURATION {text:?}"))?;
    let (mut total, mut digits, mut in_time) = (TimeDelta::zero(), String::new(), false);
    for c in body.chars() {
        match c {
            'T' => in_time = true,
            '0'..='9' => digits.push(c),
            unit => {
                let n: i64 = digits
                    .parse()
                    .with_context(|| format!("DURATION {text:?}"))?;
                digits.clear();
                total += match (unit, in_time) {
                    ('W', false) => TimeDelta::weeks(n),
                    ('D', false) => TimeDelta::days(n),
                    ('H', true) => TimeDelta::hours(n),
                    ('M', true) => TimeDelta::minutes(n),
                    ('S', true) => TimeDelta::seconds(n),
                    _ => bail!("DURATION {text:?}"),
                };
            }
        }
    }
    Ok(match start {
        DateSpec::At { tz, .. } => in_zone(start.start_utc(*tz) + total, *tz),
        other => {
            let day = other.first_day();
            let days = u64::try_from(total.num_days()).unwrap_or(0);
            DateSpec::Day(day.checked_add_days(Days::new(days)).unwrap_or(day))
        }
    })
}
