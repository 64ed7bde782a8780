//! Series in iCalendar, both ways.
//!
//! Export: the series' own VEVENT gets `RRULE` ([`to_rrule`]) and one `EXDATE` per cancelled
//! date, written like DTSTART (`TZID` and local time, `VALUE=DATE`, or UTC for a zone without
//! VTIMEZONE) as RFC 5545 asks; each override becomes a VEVENT with the same UID and SEQUENCE,
//! `RECURRENCE-ID` = the occurrence's original start, and the occurrence's own dates, title,
//! place and mode — what Outlook and Thunderbird show as "this occurrence changed".
//!
//! Import: `RRULE` (the supported subset, else an error naming the part), `EXDATE` (one or
//! several per line), and overriding VEVENTs, which become [`Override`]s keeping only what
//! differs from the series (or `except` dates when STATUS:CANCELLED). `RDATE` and `EXRULE`
//! are refused: the model has no place for them.
//!
//! A caveat: a zone without VTIMEZONE ([`vtimezone`](super::vtimezone)) is written in UTC,
//! where a client expands the RRULE without DST; Brussels and the EU zones are unaffected.

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use icalendar::{Component, Event, EventStatus};

use super::import::{self, in_zone};
use super::{date_prop, event};
use crate::calendar::datespec::{DateSpec, resolve_local};
use crate::calendar::model::{Item, occurrence_id};
use crate::calendar::recurrence::rrule::{from_rrule, to_rrule};
use crate::calendar::recurrence::{Override, Repeat, Series};

/// The RRULE and EXDATE lines of a series' own VEVENT.
pub(super) fn rule_props(
    start: &DateSpec,
    repeat: &Repeat,
    zones: &mut Vec<Tz>,
) -> Vec<(String, String)> {
    let mut p = vec![("RRULE".to_owned(), to_rrule(repeat, start))];
    for day in &repeat.except {
        p.push(date_prop("EXDATE", &start.on_date(*day), zones));
    }
    p
}

/// One VEVENT per override of a series item (none for a one-off item).
pub(super) fn override_events(
    item: &Item,
    sequence: u32,
    dtstamp: DateTime<Utc>,
    date_tz: Tz,
    zones: &mut Vec<Tz>,
) -> Vec<Vec<(String, String)>> {
    let Some(repeat) = item.repeat() else {
        return Vec::new();
    };
    let start = item.when();
    repeat
        .overrides
        .iter()
        .filter_map(|o| item.occurrence(&occurrence_id(item.id(), o.on)))
        .filter(|occ| !occ.cancelled)
        .map(|occ| {
            let mut lines = event(&occ.item, sequence, dtstamp, date_tz, zones);
            let original = start.on_date(occ.original.unwrap_or(start.first_day()));
            // After UID, DTSTAMP and SEQUENCE, where clients look for it.
            lines.insert(3, date_prop("RECURRENCE-ID", &original, zones));
            lines
        })
        .collect()
}

/// The series of an event with an RRULE, its EXDATEs as `except`; `None` without RRULE.
/// Not yet [checked](Repeat::check): overrides come later ([`check`]).
pub(super) fn read_rule(event: &Event, start: &DateSpec, default_tz: Tz) -> Result<Option<Repeat>> {
    for refused in ["RDATE", "EXRULE"] {
        if event.property_value(refused).is_some() || event.multi_properties().contains_key(refused)
        {
            bail!("{refused} is not supported (use RRULE with EXDATE)");
        }
    }
    let Some(text) = event.property_value("RRULE") else {
        return Ok(None);
    };
    let mut repeat = from_rrule(text, start, default_tz).map_err(|e| anyhow!("RRULE: {e}"))?;
    for prop in event.multi_properties().get("EXDATE").into_iter().flatten() {
        let tzid = prop.params().get("TZID").map(|p| p.value().to_owned());
        for value in prop.value().split(',') {
            let day = original_date(value.trim(), tzid.as_deref(), start, default_tz)
                .with_context(|| format!("EXDATE {value:?}"))?;
            repeat.except.push(day);
        }
    }
    Ok(Some(repeat))
}

/// Folds an overriding VEVENT (one with RECURRENCE-ID) into its series `item`.
pub(super) fn apply_override(item: &mut Item, event: &Event, default_tz: Tz) -> Result<()> {
    let start = item.when().clone();
    let rid = event
        .properties()
        .get("RECURRENCE-ID")
        .ok_or_else(|| anyhow!("no RECURRENCE-ID"))?;
    let tzid = rid.params().get("TZID").map(|p| p.value().to_owned());
    let on = original_date(rid.value().trim(), tzid.as_deref(), &start, default_tz)
        .with_context(|| format!("RECURRENCE-ID {:?}", rid.value()))?;
    let cancelled = event.get_status() == Some(EventStatus::Cancelled);
    let (series_start, series_end) = match &*item {
        Item::Meeting(m) => (m.start.clone(), m.end.clone()),
        other => (other.when().clone(), None),
    };
    let zone = start.zone(default_tz);
    let new_start = import::spec(
        event.get_start().ok_or_else(|| anyhow!("no DTSTART"))?,
        default_tz,
    )?;
    let new_end = match (event.get_end(), event.property_value("DURATION")) {
        (Some(end), _) => Some(import::spec(end, default_tz)?),
        (None, Some(duration)) => Some(import::add_duration(&new_start, duration)?),
        (None, None) => None,
    };
    let (new_start, new_end) = import::normalise_span(same_zone(new_start, zone), new_end);
    let title = event.get_summary().map(str::trim).map(str::to_owned);
    let planned = series_start.on_date(on);
    let default_end = {
        let series = Series {
            start: &series_start,
            end: series_end.as_ref(),
            repeat: item.repeat().ok_or_else(|| anyhow!("not a series"))?,
        };
        series.end_for(&new_start)
    };
    let mut o = Override {
        on,
        to: (new_start != planned).then(|| new_start.clone()),
        end: None,
        title: None,
        mode: None,
        location: None,
        join_link: None,
    };
    let differs = |a: &Option<String>, b: &Option<String>| a != b;
    match item {
        Item::Meeting(m) => {
            if cancelled {
                if let Some(r) = m.repeat.as_mut() {
                    r.except.push(on);
                }
                return Ok(());
            }
            let description = event.get_description().unwrap_or_default();
            let occ = import::meeting(
                event,
                m.id.clone(),
                title.clone().unwrap_or_default(),
                Vec::new(),
                new_start,
                new_end,
                description,
                false,
            );
            o.end = occ.end.clone().filter(|e| Some(e) != default_end.as_ref());
            o.title = Some(occ.title).filter(|t| *t != m.title && !t.is_empty());
            o.mode = Some(occ.mode).filter(|mode| *mode != m.mode);
            if differs(&occ.location, &m.location) {
                o.location = Some(occ.location.unwrap_or_default());
            }
            if differs(&occ.join_link, &m.join_link) {
                o.join_link = Some(occ.join_link.unwrap_or_default());
            }
            if let Some(r) = m.repeat.as_mut() {
                r.overrides.push(o);
            }
        }
        Item::Deadline(d) => {
            if cancelled {
                if let Some(r) = d.repeat.as_mut() {
                    r.except.push(on);
                }
                return Ok(());
            }
            o.title = title.filter(|t| *t != d.title && !t.is_empty());
            if let Some(r) = d.repeat.as_mut() {
                r.overrides.push(o);
            }
        }
        _ => bail!("only meetings and deadlines repeat"),
    }
    Ok(())
}

/// Checks an imported series once its overrides are in. A start that is not a date of the
/// rule passes: RFC 5545 leaves it undefined, and clients (and we) keep it as the first
/// occurrence.
pub(super) fn check(item: &mut Item) -> Result<()> {
    let (start, repeat) = match item {
        Item::Meeting(m) => (&m.start, m.repeat.as_mut()),
        Item::Deadline(d) => (&d.due, d.repeat.as_mut()),
        _ => return Ok(()),
    };
    let Some(repeat) = repeat else {
        return Ok(());
    };
    match repeat.check(start) {
        Err(e) if e.key != "start" => bail!("series: {}", e.message),
        _ => Ok(()),
    }
}

/// An exact time read in another zone, moved to the series' zone (the model keeps a series'
/// times in one zone).
fn same_zone(spec: DateSpec, zone: Tz) -> DateSpec {
    match spec {
        DateSpec::At { tz, .. } if tz != zone => in_zone(spec.start_utc(tz), zone),
        other => other,
    }
}

/// The original local date named by an EXDATE or RECURRENCE-ID value, in the series' zone.
fn original_date(
    value: &str,
    tzid: Option<&str>,
    start: &DateSpec,
    default_tz: Tz,
) -> Result<NaiveDate> {
    if value.len() == 8 {
        return NaiveDate::parse_from_str(value, "%Y%m%d").map_err(Into::into);
    }
    let zone = start.zone(default_tz);
    let instant = match value.strip_suffix('Z') {
        Some(body) => NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S")?.and_utc(),
        None => {
            let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")?;
            let tz = match tzid {
                Some(name) => import::zone(name)?,
                None => zone,
            };
            resolve_local(tz, local).to_utc()
        }
    };
    Ok(instant.with_timezone(&zone).date_naive())
}
