//! Recurring series: the rule a meeting or deadline repeats by, its exceptions, and the lazy
//! expansion of both into occurrences.
//!
//! The model is the part of RFC 5545 a secretariat uses (§3.3.10, §3.8.5):
//! - [`Repeat`]: `FREQ` daily, weekly or monthly; `INTERVAL`; weekdays (`BYDAY`, with an
//!   ordinal in a monthly rule: `2TU`, `-1FR`); days of the month (`BYMONTHDAY`, `-1` = last);
//!   `COUNT` or `UNTIL` (an inclusive local date); the week starts on Monday.
//! - Exceptions, keyed by an occurrence's **original local date**: `except` cancels one
//!   (`EXDATE`), an [`Override`] moves it and/or changes its title, mode or place (a VEVENT with
//!   `RECURRENCE-ID`). One date names one occurrence: every rule here yields at most one
//!   occurrence per local day, so `<item id>@<date>` is a stable occurrence id.
//! - The start (`DTSTART`) is always the first occurrence and counts towards `COUNT`; the file
//!   and the importer check it matches the rule.
//!
//! Expansion ([`Repeat::dates`], [`Series::from`]) works on local dates, then puts each at the
//! series' local time of day in its zone; an instant is only computed through
//! [`DateSpec::start_utc`], so a weekly 10:00 stays at 10:00 across DST changes and a time that
//! does not exist resolves as everywhere else ([`resolve_local`](super::datespec::resolve_local)).
//! Iterators hold a few counters, never the series: a rule without `COUNT` or `UNTIL` is
//! infinite, and a rule without `COUNT` jumps straight to the period asked for.
//!
//! **Why not the `rrule` crate.** `rrule` 0.14 would build here (rust-version 1.74, chrono-tz
//! 0.10), but it resolves skipped local times its own way (02:30 on a spring-forward day
//! becomes 03:30, where [`datespec`](super::datespec) says 03:00), so we would expand in
//! floating time and re-resolve anyway; and it implements all of RFC 5545 (yearly rules,
//! BYSETPOS, BYWEEKNO…) while the calendar file, the store and the chat commands can only hold
//! this subset, so we would still need our own type and a mapping that rejects the rest. The
//! subset expands in a page of code, tested against the RFC's own examples
//! (`recurrence/tests.rs`).
//!
//! Layout: this file holds the types and the date expansion; `check` what a file or an
//! import may hold ([`Repeat::check`]); [`series`] puts dates in time and applies exceptions;
//! [`rrule`] reads and writes the RFC 5545 text.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::datespec::DateSpec;
use super::model::Mode;

mod check;
pub mod rrule;
pub mod series;

pub use series::{Instance, Series, Status};

/// How often the rule's period comes round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Freq {
    Daily,
    Weekly,
    Monthly,
}

/// A weekday, with an ordinal in a monthly rule: `tu` (every Tuesday), `2tu` (the second),
/// `-1fr` (the last Friday). Written as in the calendar file; RFC 5545 writes `2TU`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ByDay {
    /// 0 for every such weekday; 1..=5 counts from the start of the month, -1..=-5 from its end.
    pub nth: i8,
    pub weekday: Weekday,
}

/// When a series stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum End {
    #[default]
    Never,
    /// After this many occurrences, the start included (cancelled ones count too, as EXDATEs
    /// do in RFC 5545).
    Count(u32),
    /// The last local date an occurrence may fall on.
    Until(NaiveDate),
}

/// A recurrence rule with its exceptions. Kept as JSON in the store, so every field beyond
/// `freq` is left out when empty.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repeat {
    pub freq: Freq,
    /// Every `interval` days, weeks or months; at least 1.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub interval: u32,
    /// Weekdays: plain in a weekly rule (default: the start's weekday), plain or with an
    /// ordinal in a monthly one. Empty in a daily rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<ByDay>,
    /// Days of the month for a monthly rule, 1..=31 or -31..=-1 (-1 = last). With `days` too,
    /// a date must match both (RFC 5545: "Friday the 13th"). Neither: the start's day of month;
    /// months without that day are skipped.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monthdays: Vec<i8>,
    #[serde(default, skip_serializing_if = "is_never")]
    pub end: End,
    /// Cancelled occurrences, by original local date, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<NaiveDate>,
    /// Moved or changed occurrences, sorted by original date.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Override>,
}

/// One occurrence moved to another time and/or with other details (ICS `RECURRENCE-ID`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// The occurrence's original local date: which occurrence this is.
    pub on: NaiveDate,
    /// Its new start, with the series' precision (and zone); `None` keeps the rule's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateSpec>,
    /// Its new end; `None` keeps the series' duration from the (new) start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Meetings only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Meetings only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Meetings only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_link: Option<String>,
}

/// What is wrong with a rule, naming the calendar-file key it comes from.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{key}`: {message}")]
pub struct RepeatError {
    pub key: &'static str,
    pub message: String,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

fn is_never(end: &End) -> bool {
    *end == End::Never
}

/// Periods in a row without an occurrence after which a rule is taken to have none left
/// (`monthdays = [31]` every 12 months from a February, say): ends the iterator instead of
/// looping. Real rules go at most 14 months without one (Friday the 13th).
const MAX_EMPTY_PERIODS: u32 = 1000;

impl Repeat {
    /// A rule of `freq` every period, without end or exceptions.
    pub fn new(freq: Freq) -> Self {
        Repeat {
            freq,
            interval: 1,
            days: Vec::new(),
            monthdays: Vec::new(),
            end: End::Never,
            except: Vec::new(),
            overrides: Vec::new(),
        }
    }

    /// The original local dates of the series starting on `first`, in order; cancelled ones
    /// included (see [`Series`] for exceptions).
    pub fn dates(&self, first: NaiveDate) -> Dates<'_> {
        self.dates_from(first, first)
    }

    /// Like [`dates`](Self::dates), from `not_before` on. Without `COUNT` it starts at the
    /// period holding `not_before`, so the cost does not grow with the series' age.
    pub fn dates_from(&self, first: NaiveDate, not_before: NaiveDate) -> Dates<'_> {
        let period = match self.end {
            End::Count(_) => 0,
            _ if not_before <= first => 0,
            _ => self.period_of(first, not_before),
        };
        Dates {
            rule: self,
            first,
            not_before,
            period,
            cursor: 0,
            emitted: 0,
            first_pending: period == 0,
            found: false,
            empty_run: 0,
            done: false,
        }
    }

    /// Whether the rule (cancelled dates included) has an occurrence on `date`.
    pub fn occurs_on(&self, first: NaiveDate, date: NaiveDate) -> bool {
        self.dates_from(first, date).next() == Some(date)
    }

    /// The override of the occurrence originally on `date`, if any.
    pub fn override_on(&self, date: NaiveDate) -> Option<&Override> {
        self.overrides.iter().find(|o| o.on == date)
    }

    /// The period (0 = the start's) holding `date`.
    fn period_of(&self, first: NaiveDate, date: NaiveDate) -> u32 {
        let span = match self.freq {
            Freq::Daily => (date - first).num_days(),
            Freq::Weekly => (monday(date) - monday(first)).num_days() / 7,
            Freq::Monthly => months(date) - months(first),
        };
        u32::try_from(span.max(0) / i64::from(self.interval)).unwrap_or(u32::MAX)
    }

    /// The first day of period `k` and its length in days; `None` past chrono's range.
    fn period(&self, first: NaiveDate, k: u32) -> Option<(NaiveDate, u32)> {
        let steps = u64::from(k) * u64::from(self.interval);
        match self.freq {
            Freq::Daily => Some((first.checked_add_days(Days::new(steps))?, 1)),
            Freq::Weekly => Some((monday(first).checked_add_days(Days::new(steps * 7))?, 7)),
            Freq::Monthly => {
                let start = first
                    .with_day(1)?
                    .checked_add_months(Months::new(u32::try_from(steps).ok()?))?;
                Some((start, days_in_month(start)))
            }
        }
    }

    /// Whether the rule's BY parts accept `date` (in a period the rule visits); the defaults
    /// come from the start on `first`, as RFC 5545 derives them from DTSTART.
    fn matches(&self, first: NaiveDate, date: NaiveDate) -> bool {
        match self.freq {
            Freq::Daily => true,
            Freq::Weekly if self.days.is_empty() => date.weekday() == first.weekday(),
            Freq::Weekly => self.days.iter().any(|d| d.weekday == date.weekday()),
            Freq::Monthly if self.days.is_empty() && self.monthdays.is_empty() => {
                date.day() == first.day()
            }
            Freq::Monthly => {
                let dim = days_in_month(date) as i32;
                let day = date.day() as i32;
                let by_monthday = self.monthdays.is_empty()
                    || self.monthdays.iter().any(|&n| {
                        let n = i32::from(n);
                        n == day || n < 0 && dim + 1 + n == day
                    });
                let by_day = self.days.is_empty()
                    || self.days.iter().any(|d| {
                        d.weekday == date.weekday()
                            && match d.nth {
                                0 => true,
                                n if n > 0 => (day - 1) / 7 + 1 == i32::from(n),
                                n => (dim - day) / 7 + 1 == -i32::from(n),
                            }
                    });
                by_monthday && by_day
            }
        }
    }
}

/// The dates of a rule, lazily: see [`Repeat::dates`].
#[derive(Clone, Debug)]
pub struct Dates<'a> {
    rule: &'a Repeat,
    first: NaiveDate,
    not_before: NaiveDate,
    /// The period being scanned, and the next day in it.
    period: u32,
    cursor: u32,
    /// Occurrences produced so far, for `COUNT` (only counted from the start).
    emitted: u32,
    first_pending: bool,
    found: bool,
    empty_run: u32,
    done: bool,
}

impl Dates<'_> {
    /// The next date of the rule, before the `not_before` filter.
    fn raw_next(&mut self) -> Option<NaiveDate> {
        if self.done {
            return None;
        }
        if let End::Count(n) = self.rule.end
            && self.emitted >= n
        {
            self.done = true;
            return None;
        }
        if self.first_pending {
            self.first_pending = false;
            self.emitted += 1;
            return Some(self.first);
        }
        let until = match self.rule.end {
            End::Until(u) => Some(u),
            _ => None,
        };
        loop {
            let Some((start, len)) = self.rule.period(self.first, self.period) else {
                self.done = true;
                return None;
            };
            if until.is_some_and(|u| start > u) {
                self.done = true;
                return None;
            }
            while self.cursor < len {
                let Some(d) = start.checked_add_days(Days::new(u64::from(self.cursor))) else {
                    self.done = true; // the end of chrono's calendar
                    return None;
                };
                self.cursor += 1;
                if d <= self.first || !self.rule.matches(self.first, d) {
                    continue;
                }
                if until.is_some_and(|u| d > u) {
                    self.done = true;
                    return None;
                }
                self.found = true;
                self.emitted += 1;
                return Some(d);
            }
            self.empty_run = if self.found { 0 } else { self.empty_run + 1 };
            if self.empty_run > MAX_EMPTY_PERIODS {
                self.done = true;
                return None;
            }
            self.found = false;
            self.period += 1;
            self.cursor = 0;
        }
    }
}

impl Iterator for Dates<'_> {
    type Item = NaiveDate;

    fn next(&mut self) -> Option<NaiveDate> {
        loop {
            let d = self.raw_next()?;
            if d >= self.not_before {
                return Some(d);
            }
        }
    }
}

fn monday(d: NaiveDate) -> NaiveDate {
    d.checked_sub_days(Days::new(u64::from(d.weekday().num_days_from_monday())))
        .unwrap_or(d)
}

fn months(d: NaiveDate) -> i64 {
    i64::from(d.year()) * 12 + i64::from(d.month0())
}

fn days_in_month(d: NaiveDate) -> u32 {
    let first = d.with_day(1).unwrap_or(d);
    let next = super::datespec::next_month(first);
    (next - first).num_days() as u32
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mo", Weekday::Mon),
    ("tu", Weekday::Tue),
    ("we", Weekday::Wed),
    ("th", Weekday::Thu),
    ("fr", Weekday::Fri),
    ("sa", Weekday::Sat),
    ("su", Weekday::Sun),
];

/// `mo`…`su`, as the file and RFC 5545 (upper case) write weekdays.
pub fn weekday_code(w: Weekday) -> &'static str {
    WEEKDAYS[w.num_days_from_monday() as usize].0
}

impl FromStr for ByDay {
    type Err = String;

    /// `tu`, `TU`, `2tu`, `+2TU`, `-1fr`.
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let fail = || format!("{s:?} is not a weekday like \"tu\", \"2tu\" or \"-1fr\"");
        let split = s.len().checked_sub(2).ok_or_else(fail)?;
        let (n, code) = (s.get(..split).ok_or_else(fail)?, &s[split..]);
        let weekday = WEEKDAYS
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(code))
            .map(|(_, w)| *w)
            .ok_or_else(fail)?;
        let nth = match n {
            "" => 0,
            n => n.parse::<i8>().ok().filter(|n| *n != 0).ok_or_else(fail)?,
        };
        Ok(ByDay { nth, weekday })
    }
}

impl fmt::Display for ByDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nth != 0 {
            write!(f, "{}", self.nth)?;
        }
        f.write_str(weekday_code(self.weekday))
    }
}

impl Serialize for ByDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ByDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
