//! When something happens: an exact local time in an IANA zone, a whole day, or only a month.
//!
//! The published timeline mixes all three ("24 April 2024", "August 2024", and meetings at
//! 10:00 Brussels time), so every dated item carries a [`DateSpec`].
//!
//! Semantics, used everywhere else in the calendar:
//! - **Sorting** ([`DateSpec::sort_key`]) is by local wall-clock start: a month sorts as its
//!   1st at 00:00, a day as 00:00. On ties the coarser spec comes first ("March 2025" before
//!   "1 Mar 2025" before "1 Mar 2025 10:00"). Wall-clock order is right as long as the items
//!   share one zone, which is the case for a secretariat working in Brussels time.
//! - **Past** ([`DateSpec::is_past`]): an exact time is past from that instant on; a day once
//!   the day is over (so a deadline "3 May 2023" is still open all of 3 May); a month once the
//!   month is over. Days and months are read in the calendar's zone (`date_tz`).
//! - **Local times that do not exist or exist twice** ([`resolve_local`]): a time skipped by a
//!   spring change resolves to the first instant after the gap; a repeated autumn time to its
//!   first occurrence. The scheduler and the reminders share this rule.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The zone assumed when a date-time names none.
pub const DEFAULT_TZ: Tz = chrono_tz::Europe::Brussels;

/// A date as precise as the source gives it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DateSpec {
    /// An exact local date-time in an IANA zone.
    At { local: NaiveDateTime, tz: Tz },
    /// A whole day, read in the calendar's zone.
    Day(NaiveDate),
    /// A month only ("March 2025"); the date is always the 1st.
    Month(NaiveDate),
}

/// Why a date string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid date {input:?}: {reason} (expected 2024-04-24T10:00, 2024-08-01 or 2025-03)")]
pub struct DateSpecError {
    pub input: String,
    pub reason: String,
}

impl DateSpec {
    /// A month-only spec; `None` if the month is not 1..=12.
    pub fn month(year: i32, month: u32) -> Option<Self> {
        NaiveDate::from_ymd_opt(year, month, 1).map(DateSpec::Month)
    }

    /// An exact time from its parts, in `tz`.
    pub fn at(date: NaiveDate, time: NaiveTime, tz: Tz) -> Self {
        DateSpec::At {
            local: date.and_time(time),
            tz,
        }
    }

    /// Parses `2024-04-24T10:00[:ss]`, `2024-08-01` or `2025-03`; a date-time may name its zone
    /// after it, as `2024-04-24T10:00 Europe/Brussels` or `2024-04-24T10:00[Europe/Brussels]`,
    /// and takes `default_tz` otherwise.
    pub fn parse(input: &str, default_tz: Tz) -> Result<Self, DateSpecError> {
        let fail = |reason: &str| DateSpecError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        // "2024-04-24 10:00" is read as "2024-04-24T10:00".
        let joined = match input.trim().split_once(' ') {
            Some((d, rest))
                if d.len() == 10 && rest.trim_start().as_bytes().get(2) == Some(&b':') =>
            {
                format!("{d}T{}", rest.trim_start())
            }
            _ => input.trim().to_owned(),
        };
        let s = joined.as_str();
        let (body, zone) = match s.find(['[', ' ']) {
            Some(i) => (
                &s[..i],
                Some(s[i..].trim_matches(|c: char| c == '[' || c == ']' || c == ' ')),
            ),
            None => (s, None),
        };
        let tz = match zone {
            Some(name) => name
                .parse::<Tz>()
                .map_err(|_| fail(&format!("unknown time zone {name:?}")))?,
            None => default_tz,
        };
        if body.contains('T') {
            for format in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"] {
                if let Ok(local) = NaiveDateTime::parse_from_str(body, format) {
                    return Ok(DateSpec::At { local, tz });
                }
            }
            return Err(fail("not a valid local date-time"));
        }
        if zone.is_some() {
            return Err(fail("only a date-time can name a time zone"));
        }
        if let Ok(day) = NaiveDate::parse_from_str(body, "%Y-%m-%d") {
            return Ok(DateSpec::Day(day));
        }
        if let Some((y, m)) = body.split_once('-')
            && y.len() == 4
            && m.len() == 2
            && let (Ok(y), Ok(m)) = (y.parse(), m.parse())
            && let Some(spec) = DateSpec::month(y, m)
        {
            return Ok(spec);
        }
        Err(fail("not a valid date"))
    }

    /// The local date the spec starts on (the 1st for a month).
    pub fn first_day(&self) -> NaiveDate {
        match self {
            DateSpec::At { local, .. } => local.date(),
            DateSpec::Day(d) | DateSpec::Month(d) => *d,
        }
    }

    /// The calendar year of [`first_day`](Self::first_day).
    pub fn year(&self) -> i32 {
        self.first_day().year()
    }

    /// True for an exact time of day.
    pub fn is_exact(&self) -> bool {
        matches!(self, DateSpec::At { .. })
    }

    /// True for a month-only spec.
    pub fn is_month_only(&self) -> bool {
        matches!(self, DateSpec::Month(_))
    }

    /// Sort by local wall-clock start, coarser first on ties (see the module docs).
    pub fn sort_key(&self) -> (NaiveDateTime, u8) {
        match self {
            DateSpec::At { local, .. } => (*local, 2),
            DateSpec::Day(d) => (d.and_time(NaiveTime::MIN), 1),
            DateSpec::Month(d) => (d.and_time(NaiveTime::MIN), 0),
        }
    }

    /// The instant of an exact spec, resolved across DST changes.
    pub fn instant(&self) -> Option<DateTime<Tz>> {
        match self {
            DateSpec::At { local, tz } => Some(resolve_local(*tz, *local)),
            _ => None,
        }
    }

    /// The first instant the spec covers; days and months start at 00:00 in `date_tz`.
    pub fn start_utc(&self, date_tz: Tz) -> DateTime<Utc> {
        match self {
            DateSpec::At { local, tz } => resolve_local(*tz, *local).to_utc(),
            DateSpec::Day(d) | DateSpec::Month(d) => midnight(date_tz, *d),
        }
    }

    /// The first instant after the spec: the instant itself, the next midnight, or the 1st of
    /// the next month.
    pub fn end_utc(&self, date_tz: Tz) -> DateTime<Utc> {
        match self {
            DateSpec::At { .. } => self.start_utc(date_tz),
            DateSpec::Day(d) => midnight(date_tz, d.succ_opt().unwrap_or(*d)),
            DateSpec::Month(d) => midnight(date_tz, next_month(*d)),
        }
    }

    /// The same spec on another local date: the same time of day and zone for an exact time,
    /// that day for a whole day; a month-only spec is returned as it is. Series put each
    /// occurrence on its date with this, and resolve it to an instant only later, so a 10:00
    /// meeting stays at 10:00 whatever the UTC offset that day.
    pub fn on_date(&self, date: NaiveDate) -> DateSpec {
        match self {
            DateSpec::At { local, tz } => DateSpec::At {
                local: date.and_time(local.time()),
                tz: *tz,
            },
            DateSpec::Day(_) => DateSpec::Day(date),
            DateSpec::Month(_) => self.clone(),
        }
    }

    /// The zone the spec is read in: its own for an exact time, `date_tz` otherwise.
    pub fn zone(&self, date_tz: Tz) -> Tz {
        match self {
            DateSpec::At { tz, .. } => *tz,
            _ => date_tz,
        }
    }

    /// Whether the spec is wholly over at `now` (see the module docs).
    pub fn is_past(&self, now: DateTime<Utc>, date_tz: Tz) -> bool {
        now >= self.end_utc(date_tz)
    }
}

/// The 1st of the month after `d`'s month.
pub fn next_month(d: NaiveDate) -> NaiveDate {
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d)
}

fn midnight(tz: Tz, d: NaiveDate) -> DateTime<Utc> {
    resolve_local(tz, d.and_time(NaiveTime::MIN)).to_utc()
}

/// Maps a local wall-clock time to an instant: a repeated time to its first occurrence, a
/// skipped time to the first instant after the gap (02:30 on 2026-03-29 in Brussels → 03:00
/// CEST). The mapping never decreases as `local` increases, which the scheduler relies on.
pub fn resolve_local(tz: Tz, local: NaiveDateTime) -> DateTime<Tz> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t,
        LocalResult::Ambiguous(first, _) => first,
        LocalResult::None => {
            // Smallest instant whose wall clock reaches `local`. UTC offsets stay within ±15 h,
            // so the answer lies in this window, where wall-clock time only jumps forward.
            let naive = local.and_utc().timestamp();
            let (mut lo, mut hi) = (naive - 15 * 3600, naive + 15 * 3600);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let wall = tz.timestamp_opt(mid, 0).unwrap().naive_local();
                if wall >= local { hi = mid } else { lo = mid }
            }
            tz.timestamp_opt(hi, 0).unwrap()
        }
    }
}

impl fmt::Display for DateSpec {
    /// Canonical form, accepted back by [`DateSpec::parse`]: `2024-04-24T10:00[Europe/Brussels]`,
    /// `2024-08-01`, `2025-03`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateSpec::At { local, tz } => {
                let format = if local.and_utc().timestamp() % 60 == 0 {
                    "%Y-%m-%dT%H:%M"
                } else {
                    "%Y-%m-%dT%H:%M:%S"
                };
                write!(f, "{}[{}]", local.format(format), tz.name())
            }
            DateSpec::Day(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            DateSpec::Month(d) => write!(f, "{}", d.format("%Y-%m")),
        }
    }
}

impl FromStr for DateSpec {
    type Err = DateSpecError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DateSpec::parse(s, DEFAULT_TZ)
    }
}

impl Serialize for DateSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DateSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn parses_the_three_precisions() {
        let at = DateSpec::parse("2024-04-24T10:00", DEFAULT_TZ).unwrap();
        assert_eq!(at.instant().unwrap().to_utc(), utc("2024-04-24T08:00:00Z"));
        assert_eq!(
            DateSpec::parse("2024-08-01", DEFAULT_TZ).unwrap(),
            DateSpec::Day(NaiveDate::from_ymd_opt(2024, 8, 1).unwrap())
        );
        assert_eq!(
            DateSpec::parse("2025-03", DEFAULT_TZ).unwrap(),
            DateSpec::month(2025, 3).unwrap()
        );
        let spaced = DateSpec::parse("2024-04-24 10:00 Europe/Lisbon", DEFAULT_TZ).unwrap();
        let lisbon = DateSpec::parse("2024-04-24T10:00 Europe/Lisbon", DEFAULT_TZ).unwrap();
        assert_eq!(spaced, lisbon);
        assert_eq!(
            lisbon.instant().unwrap().to_utc(),
            utc("2024-04-24T09:00:00Z")
        );
        for bad in [
            "2025-13",
            "2024-02-30",
            "24/04/2024",
            "2024-04-24T25:00",
            "2024-04-24 Europe/Paris",
            "2024-04-24T10:00 Mars/Olympus",
        ] {
            assert!(DateSpec::parse(bad, DEFAULT_TZ).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_round_trips_through_serde() {
        for s in [
            "2024-04-24T10:00[Europe/Brussels]",
            "2024-04-24T10:00:30[UTC]",
            "2024-08-01",
            "2025-03",
        ] {
            let spec: DateSpec = s.parse().unwrap();
            assert_eq!(spec.to_string(), s);
            let json = serde_json::to_string(&spec).unwrap();
            assert_eq!(serde_json::from_str::<DateSpec>(&json).unwrap(), spec);
        }
    }

    #[test]
    fn sorts_coarse_first_on_the_same_start() {
        let mut specs: Vec<DateSpec> = ["2025-03-01T10:00", "2025-03-01", "2025-03", "2025-02-28"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        specs.sort_by_key(DateSpec::sort_key);
        let shown: Vec<String> = specs.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "2025-02-28",
                "2025-03",
                "2025-03-01",
                "2025-03-01T10:00[Europe/Brussels]"
            ]
        );
    }

    #[test]
    fn past_means_wholly_over() {
        let day: DateSpec = "2023-05-03".parse().unwrap();
        assert!(!day.is_past(utc("2023-05-03T21:59:59Z"), DEFAULT_TZ)); // 23:59:59 CEST
        assert!(day.is_past(utc("2023-05-03T22:00:00Z"), DEFAULT_TZ));
        let month: DateSpec = "2024-12".parse().unwrap();
        assert!(!month.is_past(utc("2024-12-31T22:59:00Z"), DEFAULT_TZ));
        assert!(month.is_past(utc("2024-12-31T23:00:00Z"), DEFAULT_TZ));
        let at: DateSpec = "2024-04-24T10:00".parse().unwrap();
        assert!(!at.is_past(utc("2024-04-24T07:59:59Z"), DEFAULT_TZ));
        assert!(at.is_past(utc("2024-04-24T08:00:00Z"), DEFAULT_TZ));
    }

    #[test]
    fn resolves_gaps_forward_and_folds_to_the_first_occurrence() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
        let spring = resolve_local(DEFAULT_TZ, at("2026-03-29T02:30"));
        assert_eq!(spring.to_utc(), utc("2026-03-29T01:00:00Z"));
        assert_eq!(spring.format("%H:%M %Z").to_string(), "03:00 CEST");
        let autumn = resolve_local(DEFAULT_TZ, at("2026-10-25T02:30"));
        assert_eq!(autumn.to_utc(), utc("2026-10-25T00:30:00Z"));
        assert_eq!(autumn.format("%H:%M %Z").to_string(), "02:30 CEST");
    }
}
