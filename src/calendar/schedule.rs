//! Cron schedules read in local time (weekly digest, monthly cadence check), and the
//! `convene calendar preview` lines that show when one fires.
//!
//! Syntax is the `cron` crate's: 6 fields with seconds (`sec min hour dom month dow`), an
//! optional 7th for years, `@daily` and friends; the common 5-field crontab form is accepted by
//! prefixing `0 ` for the seconds. Days of week differ between the two: in the 6/7-field form
//! `1` is Sunday (the crate's numbering), in the 5-field form the crontab numbering holds
//! (`0` or `7` Sunday, `1` Monday), translated here. Names (`MON-FRI`) mean the same in both.
//!
//! Daylight saving: `cron` 0.17 iterating in `chrono_tz::Tz` drops a local time skipped in
//! spring (02:30 on 2026-03-29 in Brussels never fires) and fires a repeated autumn time twice
//! (02:30 CEST and 02:30 CET on 2026-10-25). So the crate only enumerates wall-clock times
//! (in a zone without changes), and [`resolve_local`] maps each to an instant: a skipped time
//! fires once right after the gap (03:00 CEST), a repeated time once at its first occurrence.
//! Several wall-clock times landing on one instant (02:00 and 03:00 on the spring day, for an
//! hourly schedule) fire once.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::datespec::resolve_local;

/// A cron expression read in a time zone.
#[derive(Clone, Debug)]
pub struct Schedule {
    cron: cron::Schedule,
    tz: Tz,
}

impl Schedule {
    /// Parses `expr` (5, 6 or 7 fields, or `@daily`…) for firing in `tz`.
    pub fn parse(expr: &str, tz: Tz) -> Result<Schedule> {
        let normalised = normalise(expr)?;
        let cron = normalised
            .parse::<cron::Schedule>()
            .with_context(|| format!("invalid cron expression {expr:?}"))?;
        Ok(Schedule { cron, tz })
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The expression as handed to the `cron` crate (6 or 7 fields).
    pub fn expression(&self) -> &str {
        self.cron.source()
    }

    /// The first firing strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // Wall-clock times before `after`'s own wall clock resolve to instants no later than
        // `after` (resolve_local never decreases), so enumeration can start there; the few
        // candidates of a repeated hour that are already behind us are skipped.
        let wall = after.with_timezone(&self.tz).naive_local().and_utc();
        self.cron
            .after(&wall)
            .map(|candidate| resolve_local(self.tz, candidate.naive_utc()).to_utc())
            .find(|instant| *instant > after)
    }

    /// The next `n` firings after `from`, in the schedule's zone.
    pub fn upcoming(&self, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Tz>> {
        let mut out = Vec::with_capacity(n);
        let mut cursor = from;
        while out.len() < n {
            let Some(next) = self.next_after(cursor) else {
                break;
            };
            out.push(next.with_timezone(&self.tz));
            cursor = next;
        }
        out
    }
}

/// Lines for `convene calendar preview`, one per firing:
/// `Mon 2026-03-30 09:00:00 CEST (+02:00)  = 2026-03-30 07:00:00 UTC`.
pub fn preview(expr: &str, tz: Tz, from: DateTime<Utc>, count: usize) -> Result<Vec<String>> {
    let schedule = Schedule::parse(expr, tz)?;
    Ok(schedule
        .upcoming(from, count)
        .iter()
        .map(preview_line)
        .collect())
}

fn preview_line(t: &DateTime<Tz>) -> String {
    format!(
        "{}  = {}",
        t.format("%a %Y-%m-%d %H:%M:%S %Z (%:z)"),
        t.to_utc().format("%Y-%m-%d %H:%M:%S UTC")
    )
}

/// Turns the 5-field crontab form into the crate's 6-field form; leaves others alone.
fn normalise(expr: &str) -> Result<String> {
    let expr = expr.trim();
    if expr.starts_with('@') {
        return Ok(expr.to_owned());
    }
    let fields: Vec<&str> = expr.split_whitespace().collect();
    match fields.len() {
        6 | 7 => Ok(fields.join(" ")),
        5 => {
            let dow = crontab_weekdays(fields[4])
                .with_context(|| format!("day of week {:?} in {expr:?}", fields[4]))?;
            Ok(format!(
                "0 {} {} {} {} {dow}",
                fields[0], fields[1], fields[2], fields[3]
            ))
        }
        n => bail!("cron expression {expr:?} has {n} fields; expected 5, 6 or 7"),
    }
}

/// Crontab weekday numbers (0/7 = Sunday, 1 = Monday) to the crate's (1 = Sunday).
fn crontab_weekdays(field: &str) -> Result<String> {
    let shift = |n: u32| if n == 7 { 1 } else { n + 1 };
    let number = |s: &str| -> Result<Option<u32>> {
        match s.parse::<u32>() {
            Ok(n) if n <= 7 => Ok(Some(n)),
            Ok(n) => bail!("{n} is not a day of week (0-7)"),
            Err(_) => Ok(None), // a name or `*`: same meaning in both forms
        }
    };
    let mut out = Vec::new();
    for token in field.split(',') {
        let (range, step) = match token.split_once('/') {
            Some((r, s)) => (r, format!("/{s}")),
            None => (token, String::new()),
        };
        let mapped = match range.split_once('-') {
            Some((a, b)) => match (number(a)?, number(b)?) {
                (Some(a), Some(7)) if a > 0 && step.is_empty() => format!("{}-7,1", shift(a)),
                (Some(a), Some(7)) if a > 0 => bail!("write days of week as names with a step"),
                (Some(0), Some(7)) => format!("1-7{step}"),
                (Some(a), Some(b)) => format!("{}-{}{step}", shift(a), shift(b)),
                _ => token.to_owned(),
            },
            None => match number(range)? {
                Some(n) => format!("{}{step}", shift(n)),
                None => token.to_owned(),
            },
        };
        out.push(mapped);
    }
    Ok(out.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Brussels;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn fires(expr: &str, from: &str, n: usize) -> Vec<String> {
        let schedule = Schedule::parse(expr, Brussels).unwrap();
        schedule
            .upcoming(utc(from), n)
            .iter()
            .map(|t| {
                format!(
                    "{} = {}",
                    t.format("%d %H:%M %Z"),
                    t.to_utc().format("%H:%M")
                )
            })
            .collect()
    }

    #[test]
    fn daily_0230_fires_once_after_the_spring_gap() {
        // cron 0.17 alone skips 29 March; we fire at 03:00 CEST, the end of the gap.
        assert_eq!(
            fires("0 30 2 * * *", "2026-03-27T12:00:00Z", 4),
            [
                "28 02:30 CET = 01:30",
                "29 03:00 CEST = 01:00",
                "30 02:30 CEST = 00:30",
                "31 02:30 CEST = 00:30"
            ]
        );
    }

    #[test]
    fn daily_0230_fires_once_in_the_repeated_autumn_hour() {
        // cron 0.17 alone fires twice on 25 October (00:30 and 01:30 UTC).
        assert_eq!(
            fires("30 2 * * *", "2026-10-24T12:00:00Z", 3),
            [
                "25 02:30 CEST = 00:30",
                "26 02:30 CET = 01:30",
                "27 02:30 CET = 01:30"
            ]
        );
        // Starting inside the second 02:00-03:00 does not fire 02:30 again.
        let schedule = Schedule::parse("0 30 2 * * *", Brussels).unwrap();
        assert_eq!(
            schedule.next_after(utc("2026-10-25T01:15:00Z")),
            Some(utc("2026-10-26T01:30:00Z"))
        );
        assert_eq!(
            schedule.next_after(utc("2026-10-25T00:30:00Z")),
            Some(utc("2026-10-26T01:30:00Z"))
        );
    }

    #[test]
    fn hourly_across_both_changes() {
        assert_eq!(
            fires("0 * * * *", "2026-03-28T23:30:00Z", 4),
            [
                "29 01:00 CET = 00:00",
                "29 03:00 CEST = 01:00",
                "29 04:00 CEST = 02:00",
                "29 05:00 CEST = 03:00"
            ]
        );
        assert_eq!(
            fires("0 0 * * * *", "2026-10-24T22:30:00Z", 4),
            [
                "25 01:00 CEST = 23:00",
                "25 02:00 CEST = 00:00",
                "25 03:00 CET = 02:00",
                "25 04:00 CET = 03:00"
            ]
        );
        // Half past: the skipped 02:30 becomes 03:00, then 03:30 follows.
        assert_eq!(
            fires("30 * * * *", "2026-03-29T00:00:00Z", 3),
            [
                "29 01:30 CET = 00:30",
                "29 03:00 CEST = 01:00",
                "29 03:30 CEST = 01:30"
            ]
        );
    }

    #[test]
    fn crontab_weekdays_mean_what_crontab_says() {
        // Monday 09:00 in both spellings; 30 March 2026 is a Monday.
        for expr in ["0 9 * * 1", "0 9 * * MON", "0 0 9 * * MON", "0 0 9 * * 2"] {
            assert_eq!(
                fires(expr, "2026-03-27T00:00:00Z", 1),
                ["30 09:00 CEST = 07:00"],
                "{expr}"
            );
        }
        assert_eq!(normalise("0 9 * * 1-5").unwrap(), "0 0 9 * * 2-6");
        assert_eq!(normalise("0 9 * * 5-7").unwrap(), "0 0 9 * * 6-7,1");
        assert_eq!(normalise("0 9 * * 0,6").unwrap(), "0 0 9 * * 1,7");
        assert!(normalise("0 9 * * 8").is_err());
        assert!(Schedule::parse("0 9 * *", Brussels).is_err());
        assert!(Schedule::parse("0 0 25 * * *", Brussels).is_err());
    }

    #[test]
    fn preview_lines_show_offsets_and_utc() {
        let lines = preview("0 9 * * MON", Brussels, utc("2026-03-20T00:00:00Z"), 2).unwrap();
        assert_eq!(
            lines,
            [
                "Mon 2026-03-23 09:00:00 CET (+01:00)  = 2026-03-23 08:00:00 UTC",
                "Mon 2026-03-30 09:00:00 CEST (+02:00)  = 2026-03-30 07:00:00 UTC",
            ]
        );
        let monthly = preview("@monthly", Brussels, utc("2026-10-15T00:00:00Z"), 2).unwrap();
        assert_eq!(
            monthly[1],
            "Tue 2026-12-01 00:00:00 CET (+01:00)  = 2026-11-30 23:00:00 UTC"
        );
    }
}
