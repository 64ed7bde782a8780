//! RFC 5545 `RRULE` values for a [`Repeat`]: written into feeds, read back on import.
//!
//! - `UNTIL` is written as RFC 5545 §3.3.10 asks: a DATE for a whole-day series, otherwise the
//!   UTC instant of the last possible occurrence (the series' time of day on the `until`
//!   date). On reading, an instant becomes the last local date whose occurrence starts at or
//!   before it, so `UNTIL=19971224T000000Z` on a 09:00 New York series ends on 23 December.
//! - `WKST` is accepted when it cannot change the dates (it only matters to a weekly rule
//!   with an interval and several weekdays that a week starting on that day would group
//!   differently); the model's weeks start on Monday, the RFC default, so none is written.
//! - `FREQ=DAILY;BYDAY=…` (every weekday, as some clients write it) is read as the weekly rule
//!   it equals. Anything else outside the model (yearly rules, `BYMONTH`, `BYSETPOS`, …) is an
//!   error naming the part, rather than a series imported with other dates.

use chrono::{NaiveDate, NaiveDateTime, Weekday};
use chrono_tz::Tz;

use super::{ByDay, End, Freq, Repeat, weekday_code};
use crate::calendar::datespec::{DateSpec, resolve_local};

/// The RRULE value of `rule` for a series starting at `start`:
/// `FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;UNTIL=20260630T080000Z`.
pub fn to_rrule(rule: &Repeat, start: &DateSpec) -> String {
    let freq = match rule.freq {
        Freq::Daily => "DAILY",
        Freq::Weekly => "WEEKLY",
        Freq::Monthly => "MONTHLY",
    };
    let mut parts = vec![format!("FREQ={freq}")];
    if rule.interval != 1 {
        parts.push(format!("INTERVAL={}", rule.interval));
    }
    if !rule.days.is_empty() {
        let days: Vec<String> = rule
            .days
            .iter()
            .map(|d| d.to_string().to_uppercase())
            .collect();
        parts.push(format!("BYDAY={}", days.join(",")));
    }
    if !rule.monthdays.is_empty() {
        let days: Vec<String> = rule.monthdays.iter().map(ToString::to_string).collect();
        parts.push(format!("BYMONTHDAY={}", days.join(",")));
    }
    match rule.end {
        End::Never => {}
        End::Count(n) => parts.push(format!("COUNT={n}")),
        End::Until(until) => parts.push(format!("UNTIL={}", until_value(until, start))),
    }
    parts.join(";")
}

fn until_value(until: NaiveDate, start: &DateSpec) -> String {
    match start {
        DateSpec::At { local, tz } => resolve_local(*tz, until.and_time(local.time()))
            .to_utc()
            .format("%Y%m%dT%H%M%SZ")
            .to_string(),
        _ => until.format("%Y%m%d").to_string(),
    }
}

/// Reads an RRULE value for a series starting at `start` (whole days placed in `date_tz`).
/// The rule is not [checked](Repeat::check); the caller does that with the exceptions in.
pub fn from_rrule(value: &str, start: &DateSpec, date_tz: Tz) -> Result<Repeat, String> {
    let mut freq = None;
    let mut rule = Repeat::new(Freq::Daily);
    let mut week_start = Weekday::Mon;
    for part in value.trim().split(';').filter(|p| !p.is_empty()) {
        let (key, val) = part
            .split_once('=')
            .ok_or_else(|| format!("{part:?} is not NAME=VALUE"))?;
        let key = key.trim().to_ascii_uppercase();
        let val = val.trim();
        let bad = |what: &str| format!("{key}={val}: {what}");
        match key.as_str() {
            "FREQ" => {
                freq = Some(match val.to_ascii_uppercase().as_str() {
                    "DAILY" => Freq::Daily,
                    "WEEKLY" => Freq::Weekly,
                    "MONTHLY" => Freq::Monthly,
                    _ => return Err(bad("only DAILY, WEEKLY and MONTHLY series are supported")),
                })
            }
            "INTERVAL" => {
                rule.interval = val.parse().map_err(|_| bad("not a number"))?;
            }
            "COUNT" => rule.end = End::Count(val.parse().map_err(|_| bad("not a number"))?),
            "UNTIL" => {
                rule.end =
                    End::Until(until_date(val, start, date_tz).ok_or_else(|| bad("not a date"))?)
            }
            "BYDAY" => {
                rule.days = val
                    .split(',')
                    .map(str::parse::<ByDay>)
                    .collect::<Result<_, _>>()
                    .map_err(|e| bad(&e))?;
            }
            "BYMONTHDAY" => {
                rule.monthdays = val
                    .split(',')
                    .map(|n| n.trim().trim_start_matches('+').parse::<i8>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad("not a list of days"))?;
            }
            "WKST" => {
                week_start = val
                    .parse::<ByDay>()
                    .ok()
                    .filter(|d| d.nth == 0)
                    .ok_or_else(|| bad("not a weekday"))?
                    .weekday;
            }
            _ => {
                return Err(format!(
                    "{key} is not supported (FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, WKST)"
                ));
            }
        }
    }
    rule.freq = freq.ok_or("no FREQ")?;
    if rule.freq == Freq::Daily && !rule.days.is_empty() {
        if rule.interval != 1 || rule.days.iter().any(|d| d.nth != 0) {
            return Err("FREQ=DAILY with BYDAY is only supported every day (INTERVAL=1)".into());
        }
        rule.freq = Freq::Weekly;
    }
    if rule.freq == Freq::Weekly && rule.interval > 1 && !same_weeks(&rule.days, week_start) {
        return Err(format!(
            "WKST={} groups these weekdays into other weeks than Monday does; not supported",
            weekday_code(week_start).to_uppercase()
        ));
    }
    Ok(rule)
}

/// Whether weeks starting on `week_start` put `days` in the same order (hence the same
/// weeks) as weeks starting on Monday.
fn same_weeks(days: &[ByDay], week_start: Weekday) -> bool {
    let order = |from: Weekday| {
        let mut d: Vec<u32> = days
            .iter()
            .map(|d| (d.weekday.num_days_from_monday() + 7 - from.num_days_from_monday()) % 7)
            .collect();
        d.sort_unstable();
        d.iter()
            .map(|k| (k + from.num_days_from_monday()) % 7)
            .collect::<Vec<_>>()
    };
    order(Weekday::Mon) == order(week_start)
}

/// The last local date an occurrence may fall on, from an UNTIL value.
fn until_date(value: &str, start: &DateSpec, date_tz: Tz) -> Option<NaiveDate> {
    if value.len() == 8 {
        return NaiveDate::parse_from_str(value, "%Y%m%d").ok();
    }
    let zone = start.zone(date_tz);
    let (body, utc) = match value.strip_suffix('Z') {
        Some(body) => (body, true),
        None => (value, false),
    };
    let naive = NaiveDateTime::parse_from_str(body, "%Y%m%dT%H%M%S").ok()?;
    let instant = if utc {
        naive.and_utc()
    } else {
        resolve_local(zone, naive).to_utc()
    };
    let date = instant.with_timezone(&zone).date_naive();
    if start.on_date(date).start_utc(date_tz) <= instant {
        Some(date)
    } else {
        date.pred_opt()
    }
}
