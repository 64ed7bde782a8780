//! Dates in the reader's terms: "Thu 24 Apr, 10:00 Brussels time, in 3 days".
//!
//! - Times are shown in the calendar's zone (from config), named after its city
//!   (`Europe/Brussels` → "Brussels time"); the year only when it is not the current one.
//!   A member who set their own zone (`!tz Europe/Lisbon`) sees theirs beside it:
//!   "10:00 Brussels time (09:00 Lisbon time)", with the day when it differs
//!   ("(Fri 25 Apr, 01:00 Tokyo time)"), and nothing more where the two read the same
//!   ([`Zones`], the `*_in` functions).
//! - Relative parts count calendar days in the reader's zone: "today", "tomorrow",
//!   "yesterday", "in 3 days", "3 days ago"; from 14 days "in 3 weeks", from 60 days
//!   "in 4 months". Later the same day and within 3 hours: "in 2 hours", "in 45 minutes".
//! - A month-only date is just "March 2025": no weekday, no relative part.
//! - A series' rule reads "every 2 weeks on Tuesday", "monthly on the first Friday, until
//!   30 Jun 2026" ([`repeat`]).

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

use super::datespec::DateSpec;
use super::recurrence::{End, Freq, Repeat};

/// The zones a text is written for: the calendar's, and the reader's own if they set one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zones {
    pub tz: Tz,
    pub reader: Option<Tz>,
}

impl Zones {
    pub fn new(tz: Tz, reader: Option<Tz>) -> Zones {
        Zones { tz, reader }
    }
}

impl From<Tz> for Zones {
    fn from(tz: Tz) -> Zones {
        Zones { tz, reader: None }
    }
}

/// " (09:00 Lisbon time)" for an instant shown in `z.tz`, when the reader's clock reads
/// otherwise; " (Fri 25 Apr, 01:00 Tokyo time)" when it is another day there.
pub fn reader_suffix(at: DateTime<Utc>, z: Zones, today: NaiveDate) -> String {
    let Some(reader) = z.reader else {
        return String::new();
    };
    let (here, there) = (at.with_timezone(&z.tz), at.with_timezone(&reader));
    if here.naive_local() == there.naive_local() {
        return String::new();
    }
    let label = tz_label(reader);
    if here.date_naive() == there.date_naive() {
        format!(" ({} {label})", there.format("%H:%M"))
    } else {
        format!(
            " ({}, {} {label})",
            day(there.date_naive(), today),
            there.format("%H:%M")
        )
    }
}

/// "Brussels time" for `Europe/Brussels`, "UTC" for UTC, "New York time"…
pub fn tz_label(tz: Tz) -> String {
    let name = tz.name();
    match name.rsplit_once('/') {
        Some((_, city)) => format!("{} time", city.replace('_', " ")),
        None => name.to_owned(),
    }
}

/// "Thu 24 Apr", or "Fri 31 Jan 2025" outside `today`'s year.
pub fn day(date: NaiveDate, today: NaiveDate) -> String {
    if date.year() == today.year() {
        date.format("%a %-d %b").to_string()
    } else {
        date.format("%a %-d %b %Y").to_string()
    }
}

/// "March 2025".
pub fn month(date: NaiveDate) -> String {
    date.format("%B %Y").to_string()
}

/// "today", "tomorrow", "in 3 days", "3 days ago", "in 3 weeks", "in 4 months"…
pub fn relative_day(date: NaiveDate, today: NaiveDate) -> String {
    let n = (date - today).num_days();
    let amount = |n: i64| {
        let (count, unit) = match n {
            0..14 => (n, "day"),
            14..60 => (n / 7, "week"),
            _ => (n / 30, "month"),
        };
        format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
    };
    match n {
        0 => "today".to_owned(),
        1 => "tomorrow".to_owned(),
        -1 => "yesterday".to_owned(),
        n if n > 0 => format!("in {}", amount(n)),
        n => format!("{} ago", amount(-n)),
    }
}

/// The relative part for an instant: [`relative_day`], or minutes/hours later the same day.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>, tz: Tz) -> String {
    let (date, today) = (
        at.with_timezone(&tz).date_naive(),
        now.with_timezone(&tz).date_naive(),
    );
    let minutes = (at - now).num_minutes();
    if date == today && (1..180).contains(&minutes) {
        return match minutes {
            1 => "in 1 minute".to_owned(),
            2..60 => format!("in {minutes} minutes"),
            60..120 => "in 1 hour".to_owned(),
            _ => format!("in {} hours", minutes / 60),
        };
    }
    relative_day(date, today)
}

/// "Thu 24 Apr, 10:00 Brussels time, in 3 days"; "Fri 15 Sep 2023, tomorrow"; "March 2025".
pub fn when(spec: &DateSpec, now: DateTime<Utc>, tz: Tz) -> String {
    span(spec, None, now, tz)
}

/// [`when`] for a reader with their own zone.
pub fn when_in(spec: &DateSpec, now: DateTime<Utc>, z: Zones) -> String {
    span_in(spec, None, now, z)
}

/// Like [`when`] with an end: "Thu 24 Apr, 10:00–12:30 Brussels time, in 3 days",
/// "Tue 30 May – Thu 1 Jun 2023, …".
pub fn span(start: &DateSpec, end: Option<&DateSpec>, now: DateTime<Utc>, tz: Tz) -> String {
    span_in(start, end, now, tz.into())
}

/// [`span`] for a reader with their own zone.
pub fn span_in(start: &DateSpec, end: Option<&DateSpec>, now: DateTime<Utc>, z: Zones) -> String {
    let tz = z.tz;
    let today = now.with_timezone(&tz).date_naive();
    let plain = span_plain_in(start, end, today, z);
    match start {
        DateSpec::Month(_) => plain,
        DateSpec::Day(d) => format!("{plain}, {}", relative_day(*d, today)),
        DateSpec::At { .. } => format!("{plain}, {}", relative(start.start_utc(tz), now, tz)),
    }
}

/// [`span`] without the relative part, for lists: "Thu 24 Apr, 10:00–12:30 Brussels time".
pub fn span_plain(start: &DateSpec, end: Option<&DateSpec>, today: NaiveDate, tz: Tz) -> String {
    span_plain_in(start, end, today, tz.into())
}

/// [`span_plain`] for a reader with their own zone: their time of the start beside ours.
pub fn span_plain_in(
    start: &DateSpec,
    end: Option<&DateSpec>,
    today: NaiveDate,
    z: Zones,
) -> String {
    let tz = z.tz;
    match start {
        DateSpec::Month(d) => month(*d),
        DateSpec::Day(d) => match end {
            Some(DateSpec::Day(e)) if e > d => format!("{} – {}", day(*d, today), day(*e, today)),
            _ => day(*d, today),
        },
        DateSpec::At { .. } => {
            let at = start.start_utc(tz).with_timezone(&tz);
            let mut text = format!("{}, {}", day(at.date_naive(), today), at.format("%H:%M"));
            if let Some(end @ DateSpec::At { .. }) = end {
                let e = end.start_utc(tz).with_timezone(&tz);
                if e.date_naive() == at.date_naive() {
                    text.push_str(&e.format("–%H:%M").to_string());
                } else {
                    text.push_str(&format!(
                        " – {}, {}",
                        day(e.date_naive(), today),
                        e.format("%H:%M")
                    ));
                }
            }
            let theirs = reader_suffix(start.start_utc(tz), z, today);
            format!("{text} {}{theirs}", tz_label(tz))
        }
    }
}

/// "Research & Innovation" for `research-innovation`, "Digital" for `digital`.
pub fn group_label(slug: &str) -> String {
    match slug {
        "research-innovation" => "Research & Innovation".to_owned(),
        _ => {
            let words = slug.split('-').map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            });
            words.collect::<Vec<_>>().join(" ")
        }
    }
}

/// " (Digital, Health)" for an item of some groups; nothing for an item of all groups.
pub fn groups_suffix(groups: &[String]) -> String {
    if groups.is_empty() {
        return String::new();
    }
    let labels: Vec<String> = groups.iter().map(|g| group_label(g)).collect();
    format!(" ({})", labels.join(", "))
}

/// A short date without relative part: "24 Apr 2024", "Aug 2024"; for timelines and tables.
pub fn short(spec: &DateSpec) -> String {
    match spec {
        DateSpec::Month(d) => d.format("%b %Y").to_string(),
        other => other.first_day().format("%-d %b %Y").to_string(),
    }
}

/// A series' rule in words, from its first occurrence on `first`: "daily, 5 times",
/// "every 2 weeks on Tuesday", "monthly on the first Friday", "monthly on the 15th and the
/// last day, until 30 Jun 2026".
pub fn repeat(rule: &Repeat, first: NaiveDate) -> String {
    let (unit, every) = match rule.freq {
        Freq::Daily => ("days", "daily"),
        Freq::Weekly => ("weeks", "weekly"),
        Freq::Monthly => ("months", "monthly"),
    };
    let mut text = match rule.interval {
        1 => every.to_owned(),
        n => format!("every {n} {unit}"),
    };
    let mut on: Vec<String> = Vec::new();
    match rule.freq {
        Freq::Daily => {}
        Freq::Weekly if rule.days.is_empty() => on.push(weekday(first.weekday()).to_owned()),
        Freq::Weekly | Freq::Monthly => on.extend(rule.days.iter().map(|d| match d.nth {
            0 => format!("every {}", weekday(d.weekday)),
            n => format!("the {} {}", nth(n), weekday(d.weekday)),
        })),
    }
    if rule.freq == Freq::Weekly {
        // "on Tuesday and Thursday", not "on every Tuesday and every Thursday".
        on = on
            .iter()
            .map(|d| d.trim_start_matches("every ").to_owned())
            .collect();
    }
    let monthdays: Vec<i8> = match (rule.freq, rule.days.is_empty(), rule.monthdays.is_empty()) {
        (Freq::Monthly, true, true) => vec![first.day() as i8],
        _ => rule.monthdays.clone(),
    };
    on.extend(monthdays.iter().map(|&n| match n {
        -1 => "the last day".to_owned(),
        n if n < 0 => format!("the {} day", nth(n)),
        n => format!("the {}", ordinal(i32::from(n))),
    }));
    if !on.is_empty() {
        let last = on.pop().unwrap_or_default();
        let list = if on.is_empty() {
            last
        } else {
            format!("{} and {last}", on.join(", "))
        };
        text.push_str(&format!(" on {list}"));
    }
    match rule.end {
        End::Never => {}
        End::Count(n) => text.push_str(&format!(", {n} times")),
        End::Until(until) => text.push_str(&format!(", until {}", until.format("%-d %b %Y"))),
    }
    text
}

fn weekday(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// "first", "second"… "last", "second to last".
fn nth(n: i8) -> String {
    const WORDS: [&str; 5] = ["first", "second", "third", "fourth", "fifth"];
    match n {
        -1 => "last".to_owned(),
        n if n < 0 => format!("{} to last", WORDS.get((-n - 1) as usize).unwrap_or(&"")),
        n => WORDS.get((n - 1) as usize).unwrap_or(&"").to_string(),
    }
}

/// "1st", "2nd", "3rd", "11th", "22nd".
fn ordinal(n: i32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

#[cfg(test)]
mod tests;
