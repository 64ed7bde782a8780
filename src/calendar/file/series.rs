//! The series keys of a `[[meeting]]` or `[[deadline]]` (`repeat`, `interval`, `days`,
//! `monthdays`, `count`, `until`, `except`) and its `[[….moved]]` tables, read into a
//! [`Repeat`] and checked against the entry's start (see the parent module's docs).

use chrono::NaiveTime;
use serde::Deserialize;

use super::{Entry, FileError};
use crate::calendar::datespec::DateSpec;
use crate::calendar::model::Mode;
use crate::calendar::recurrence::{ByDay, End, Freq, Override, Repeat};

/// The series keys of a meeting or deadline, gathered from its raw entry.
pub(super) struct RawSeries {
    pub(super) repeat: Option<Freq>,
    pub(super) interval: Option<u32>,
    pub(super) days: Option<Vec<String>>,
    pub(super) monthdays: Option<Vec<i8>>,
    pub(super) count: Option<u32>,
    pub(super) until: Option<String>,
    pub(super) except: Option<Vec<String>>,
    pub(super) moved: Option<Vec<RawMoved>>,
}

/// One `[[meeting.moved]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMoved {
    on: String,
    to: Option<String>,
    end: Option<String>,
    title: Option<String>,
    mode: Option<Mode>,
    location: Option<String>,
    join_link: Option<String>,
}

/// The series of an entry whose first occurrence is `start`, or `None` without `repeat`.
pub(super) fn series(
    e: &Entry,
    start: &DateSpec,
    raw: RawSeries,
    meeting: bool,
) -> Result<Option<Repeat>, FileError> {
    let Some(freq) = raw.repeat else {
        let given = [
            ("interval", raw.interval.is_some()),
            ("days", raw.days.is_some()),
            ("monthdays", raw.monthdays.is_some()),
            ("count", raw.count.is_some()),
            ("until", raw.until.is_some()),
            ("except", raw.except.is_some()),
            ("moved", raw.moved.is_some()),
        ];
        return match given.into_iter().find(|(_, given)| *given) {
            Some((key, _)) => Err(e.err(
                key,
                "only a series has this: add `repeat = \"weekly\"` (or \"daily\", \"monthly\")",
            )),
            None => Ok(None),
        };
    };
    let mut rule = Repeat::new(freq);
    rule.interval = raw.interval.unwrap_or(1);
    rule.days = raw
        .days
        .unwrap_or_default()
        .iter()
        .map(|d| d.parse::<ByDay>().map_err(|m| e.err("days", m)))
        .collect::<Result<_, _>>()?;
    rule.monthdays = raw.monthdays.unwrap_or_default();
    rule.end = match (raw.count, raw.until) {
        (Some(_), Some(_)) => return Err(e.err("until", "give `count` or `until`, not both")),
        (Some(n), None) => End::Count(n),
        (None, Some(until)) => End::Until(e.day("until", &until)?),
        (None, None) => End::Never,
    };
    rule.except = raw
        .except
        .unwrap_or_default()
        .iter()
        .map(|d| e.day("except", d))
        .collect::<Result<_, _>>()?;
    rule.overrides = raw
        .moved
        .unwrap_or_default()
        .into_iter()
        .map(|m| moved(e, start, m, meeting))
        .collect::<Result<_, _>>()?;
    rule.check(start)
        .map_err(|err| e.err(err.key, err.message))?;
    Ok(Some(rule))
}

/// One `[[meeting.moved]]` / `[[deadline.moved]]` table.
fn moved(e: &Entry, start: &DateSpec, m: RawMoved, meeting: bool) -> Result<Override, FileError> {
    let on = e.day("moved.on", &m.on)?;
    if !meeting {
        let meeting_only = [
            ("moved.end", m.end.is_some()),
            ("moved.mode", m.mode.is_some()),
            ("moved.location", m.location.is_some()),
            ("moved.join_link", m.join_link.is_some()),
        ];
        if let Some((key, _)) = meeting_only.into_iter().find(|(_, given)| *given) {
            return Err(e.err(
                key,
                format!("on {on}: a deadline moves with `to` and `title` only"),
            ));
        }
    }
    // "14:00" is a time on the occurrence's (new) day, in the series' zone.
    let at = |key: &'static str, text: &str, day: chrono::NaiveDate| match start {
        DateSpec::At { tz, .. } if !text.contains('-') => NaiveTime::parse_from_str(text, "%H:%M")
            .map(|time| DateSpec::at(day, time, *tz))
            .map_err(|_| {
                e.err(
                    key,
                    format!("on {on}: {text:?} is not HH:MM or a date-time"),
                )
            }),
        _ => DateSpec::parse(text, e.tz).map_err(|err| e.err(key, format!("on {on}: {err}"))),
    };
    let to = m.to.map(|t| at("moved.to", &t, on)).transpose()?;
    let end_day = to.as_ref().map_or(on, DateSpec::first_day);
    let end = m.end.map(|t| at("moved.end", &t, end_day)).transpose()?;
    Ok(Override {
        on,
        to,
        end,
        title: m.title,
        mode: m.mode,
        location: m.location,
        join_link: m.join_link,
    })
}
