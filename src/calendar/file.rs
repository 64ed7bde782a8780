//! The calendar file (`config/calendar.toml`): TOML with `[[call]]`, `[[deadline]]`,
//! `[[meeting]]` and `[[milestone]]` tables, read into a [`Calendar`].
//!
//! - Dates: `"2024-04-24T10:00"` (local, in the entry's `tz`, else the file's `timezone`, else
//!   Europe/Brussels), `"2024-08-01"` (a whole day), `"2025-03"` (month only). A meeting's
//!   `end` may be a bare `"12:30"` on the start's day.
//! - `id` is optional: derived from title and date ([`derive_id`]) when absent. Ids are
//!   lowercase letters, digits, `-`, `_`, `.` and unique per kind, since UIDs and reminder keys
//!   are built from them.
//! - `groups` lists group slugs; absent or empty means all groups.
//! - Unknown keys are errors. Every error names the entry (`[[meeting]] #3 "…"`) and the key.
//!   See `config/calendar.example.toml` for a complete file.
//!
//! A `[[meeting]]` or `[[deadline]]` repeats with `repeat` (its `start`/`due` is the first
//! occurrence and must be a date of the rule; see [`recurrence`](super::recurrence)):
//!
//! ```toml
//! repeat = "weekly"           # "daily", "weekly" or "monthly"
//! interval = 2                # every 2nd week (default 1)
//! days = ["tu"]               # weekly: mo…su (default: the start's weekday);
//!                             # monthly: "2tu" (2nd Tuesday), "-1fr" (last Friday), "tu" (every)
//! monthdays = [15, -1]        # monthly: days of the month, -1 = the last (default: the start's)
//! count = 10                  # how many, the start included — or:
//! until = "2026-06-30"        # the last date one may fall on
//! except = ["2026-04-14"]     # cancelled occurrences, by their date
//!
//! [[meeting.moved]]           # one occurrence moved or changed
//! on = "2026-05-12"           # its date in the rule
//! to = "2026-05-13T14:00"     # its new start ("14:00" = same day; absent = unchanged)
//! end = "15:30"               # optional; default: the series' duration from `to`
//! title = "…"                 # optional, as are mode, location, join_link (meetings only)
//! ```

use std::collections::HashMap;

use chrono::NaiveTime;
use chrono_tz::Tz;
use serde::Deserialize;

use super::datespec::{DEFAULT_TZ, DateSpec};
use super::model::{
    AgendaItem, AgendaKind, Calendar, Call, CallKind, Deadline, Meeting, Milestone, Mode, derive_id,
};
use super::recurrence::Freq;

mod series;

use series::{RawMoved, RawSeries, series};

/// What is wrong with a calendar file.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("calendar file: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("calendar file: {entry}: `{key}`: {message}")]
    Entry {
        entry: String,
        key: &'static str,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    timezone: Option<String>,
    #[serde(default)]
    call: Vec<RawCall>,
    #[serde(default)]
    deadline: Vec<RawDeadline>,
    #[serde(default)]
    meeting: Vec<RawMeeting>,
    #[serde(default)]
    milestone: Vec<RawMilestone>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCall {
    id: Option<String>,
    title: String,
    #[serde(default)]
    groups: Vec<String>,
    kind: CallKind,
    opens: String,
    closes: String,
    link: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadline {
    id: Option<String>,
    title: String,
    due: String,
    tz: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
    source: Option<String>,
    // Series keys, as in `RawSeries` (serde's `flatten` does not go with
    // `deny_unknown_fields`).
    repeat: Option<Freq>,
    interval: Option<u32>,
    days: Option<Vec<String>>,
    monthdays: Option<Vec<i8>>,
    count: Option<u32>,
    until: Option<String>,
    except: Option<Vec<String>>,
    moved: Option<Vec<RawMoved>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeeting {
    id: Option<String>,
    title: String,
    #[serde(default)]
    groups: Vec<String>,
    mode: Mode,
    start: String,
    end: Option<String>,
    tz: Option<String>,
    location: Option<String>,
    join_link: Option<String>,
    #[serde(default)]
    agenda: Vec<RawAgendaItem>,
    minutes_link: Option<String>,
    #[serde(default)]
    cancelled: bool,
    repeat: Option<Freq>,
    interval: Option<u32>,
    days: Option<Vec<String>>,
    monthdays: Option<Vec<i8>>,
    count: Option<u32>,
    until: Option<String>,
    except: Option<Vec<String>>,
    moved: Option<Vec<RawMoved>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgendaItem {
    n: Option<toml::Value>,
    title: String,
    kind: Option<AgendaKind>,
    #[serde(default)]
    docs: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMilestone {
    id: Option<String>,
    title: String,
    when: String,
    #[serde(default)]
    groups: Vec<String>,
}

/// One entry being checked: names itself in errors.
struct Entry {
    name: String,
    tz: Tz,
}

impl Entry {
    fn new(table: &str, index: usize, title: &str, tz: Tz) -> Self {
        Entry {
            name: format!("[[{table}]] #{} {title:?}", index + 1),
            tz,
        }
    }

    fn err(&self, key: &'static str, message: impl Into<String>) -> FileError {
        FileError::Entry {
            entry: self.name.clone(),
            key,
            message: message.into(),
        }
    }

    fn zone(&mut self, tz: Option<&str>) -> Result<(), FileError> {
        if let Some(name) = tz {
            self.tz = name
                .parse()
                .map_err(|_| self.err("tz", format!("unknown time zone {name:?}")))?;
        }
        Ok(())
    }

    fn date(&self, key: &'static str, value: &str) -> Result<DateSpec, FileError> {
        DateSpec::parse(value, self.tz).map_err(|e| self.err(key, e.to_string()))
    }

    /// A plain date, `2026-05-12`.
    fn day(&self, key: &'static str, value: &str) -> Result<chrono::NaiveDate, FileError> {
        chrono::NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
            .map_err(|_| self.err(key, format!("{value:?} is not a date like \"2026-05-12\"")))
    }

    fn id(&self, given: Option<String>, title: &str, when: &DateSpec) -> Result<String, FileError> {
        let id = given.unwrap_or_else(|| derive_id(title, when));
        let valid = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
        if !valid {
            return Err(self.err(
                "id",
                format!("{id:?}: use lowercase letters, digits, '-', '_' or '.'"),
            ));
        }
        Ok(id)
    }

    fn groups(&self, groups: Vec<String>) -> Result<Vec<String>, FileError> {
        match groups.iter().find(|g| {
            g.is_empty()
                || !g
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }) {
            Some(bad) => Err(self.err(
                "groups",
                format!("{bad:?} is not a group slug (like \"research-innovation\")"),
            )),
            None => Ok(groups),
        }
    }
}

/// Reads a calendar file's text.
pub fn parse(text: &str) -> Result<Calendar, FileError> {
    let raw: RawFile = toml::from_str(text)?;
    let file_tz = match raw.timezone.as_deref() {
        Some(name) => name.parse().map_err(|_| FileError::Entry {
            entry: "top level".into(),
            key: "timezone",
            message: format!("unknown time zone {name:?}"),
        })?,
        None => DEFAULT_TZ,
    };
    let mut cal = Calendar::default();
    for (i, c) in raw.call.into_iter().enumerate() {
        let e = Entry::new("call", i, &c.title, file_tz);
        let (opens, closes) = (e.date("opens", &c.opens)?, e.date("closes", &c.closes)?);
        if closes.sort_key().0 < opens.sort_key().0 {
            return Err(e.err("closes", format!("{closes} is before the opening {opens}")));
        }
        let id = e.id(c.id, &c.title, &opens)?;
        let groups = e.groups(c.groups)?;
        cal.calls.push(Call {
            id,
            title: c.title,
            groups,
            kind: c.kind,
            opens,
            closes,
            link: c.link,
        });
    }
    for (i, d) in raw.deadline.into_iter().enumerate() {
        let mut e = Entry::new("deadline", i, &d.title, file_tz);
        e.zone(d.tz.as_deref())?;
        let due = e.date("due", &d.due)?;
        let raw = RawSeries {
            repeat: d.repeat,
            interval: d.interval,
            days: d.days,
            monthdays: d.monthdays,
            count: d.count,
            until: d.until,
            except: d.except,
            moved: d.moved,
        };
        let repeat = series(&e, &due, raw, false)?;
        let id = e.id(d.id, &d.title, &due)?;
        let groups = e.groups(d.groups)?;
        cal.deadlines.push(Deadline {
            id,
            title: d.title,
            due,
            groups,
            source: d.source,
            repeat,
        });
    }
    for (i, m) in raw.meeting.into_iter().enumerate() {
        cal.meetings
            .push(meeting(Entry::new("meeting", i, &m.title, file_tz), m)?);
    }
    for (i, m) in raw.milestone.into_iter().enumerate() {
        let e = Entry::new("milestone", i, &m.title, file_tz);
        let when = e.date("when", &m.when)?;
        let id = e.id(m.id, &m.title, &when)?;
        let groups = e.groups(m.groups)?;
        cal.milestones.push(Milestone {
            id,
            title: m.title,
            when,
            groups,
        });
    }
    check_unique_ids(&cal)?;
    Ok(cal)
}

fn meeting(mut e: Entry, m: RawMeeting) -> Result<Meeting, FileError> {
    e.zone(m.tz.as_deref())?;
    let start = e.date("start", &m.start)?;
    if m.tz.is_some() && !start.is_exact() {
        return Err(e.err("tz", "a time zone needs a start with a time of day"));
    }
    let end = match (&start, m.end.as_deref()) {
        (_, None) => None,
        (DateSpec::Month(_), Some(_)) => {
            return Err(e.err("end", "a month-only meeting has no end"));
        }
        (DateSpec::At { local, tz }, Some(text)) if !text.contains('-') => {
            let time = NaiveTime::parse_from_str(text, "%H:%M")
                .map_err(|_| e.err("end", format!("{text:?} is not HH:MM or a date-time")))?;
            Some(DateSpec::At {
                local: local.date().and_time(time),
                tz: *tz,
            })
        }
        (_, Some(text)) => Some(e.date("end", text)?),
    };
    let end = match end {
        Some(end) if std::mem::discriminant(&end) != std::mem::discriminant(&start) => {
            return Err(e.err("end", "give the end with the same precision as the start"));
        }
        Some(DateSpec::At { tz, .. }) if Some(tz) != start_tz(&start) => {
            return Err(e.err(
                "end",
                "the end is read in the meeting's zone; do not name another",
            ));
        }
        Some(end) if end.sort_key() < start.sort_key() => {
            return Err(e.err("end", format!("{end} is before the start {start}")));
        }
        Some(end) if end == start && !end.is_exact() => None,
        other => other,
    };
    if m.mode == Mode::Physical && m.location.as_deref().is_none_or(str::is_empty) {
        return Err(e.err("location", "a physical meeting needs a location"));
    }
    let raw = RawSeries {
        repeat: m.repeat,
        interval: m.interval,
        days: m.days,
        monthdays: m.monthdays,
        count: m.count,
        until: m.until,
        except: m.except,
        moved: m.moved,
    };
    let repeat = series(&e, &start, raw, true)?;
    if let Some(o) = repeat.iter().flat_map(|r| &r.overrides).find(|o| {
        o.mode == Some(Mode::Physical)
            && o.location
                .as_deref()
                .or(m.location.as_deref())
                .is_none_or(str::is_empty)
    }) {
        return Err(e.err(
            "moved.location",
            format!("on {}: a physical meeting needs a location", o.on),
        ));
    }
    let agenda = m
        .agenda
        .into_iter()
        .enumerate()
        .map(|(i, a)| {
            let n = match a.n {
                None => (i + 1).to_string(),
                Some(toml::Value::String(s)) => s,
                Some(toml::Value::Integer(n)) => n.to_string(),
                Some(toml::Value::Float(f)) => f.to_string(),
                Some(other) => {
                    return Err(e.err(
                        "agenda",
                        format!("item number {other} is not a number or string"),
                    ));
                }
            };
            if let Some(bad) = a.docs.iter().find(|d| !super::agenda::is_link(d)) {
                return Err(e.err(
                    "agenda",
                    format!("item {n}: document {bad:?} is not an http(s) link"),
                ));
            }
            Ok(AgendaItem {
                n,
                title: a.title,
                kind: a.kind,
                docs: a.docs,
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Meeting {
        id: e.id(m.id, &m.title, &start)?,
        groups: e.groups(m.groups)?,
        title: m.title,
        mode: m.mode,
        start,
        end,
        location: m.location,
        join_link: m.join_link,
        agenda,
        minutes_link: m.minutes_link,
        cancelled: m.cancelled,
        repeat,
    })
}

fn start_tz(start: &DateSpec) -> Option<Tz> {
    match start {
        DateSpec::At { tz, .. } => Some(*tz),
        _ => None,
    }
}

fn check_unique_ids(cal: &Calendar) -> Result<(), FileError> {
    let mut seen = HashMap::new();
    for item in cal.items() {
        let table = item.kind().as_str();
        if let Some(first) =
            seen.insert((item.kind(), item.id().to_owned()), item.title().to_owned())
        {
            return Err(FileError::Entry {
                entry: format!("[[{table}]] {:?}", item.title()),
                key: "id",
                message: format!("id {:?} is also used by [[{table}]] {first:?}", item.id()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
