//! Dates written in prose, in English, French and German: "3 May 2023", "14, 15 and 16
//! November 2022", "22-24 November 2023", "Friday 12 May", "May 3, 2023", "15/09/2023",
//! "2023-09-15", "December 2024", "3 mai 2023", "3. Mai 2023".
//!
//! A list or range of days yields its first day. A date without a year takes the reference
//! date's year, or the next year if it would fall before the reference; a weekday, when given,
//! picks whichever of the two years agrees with it. Lowercase "may" is the verb, not the month.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, Weekday};
use regex::{Captures, Regex};

use crate::calendar::datespec::DateSpec;

/// A date found in a sentence, with its byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub when: DateSpec,
    pub start: usize,
    pub end: usize,
}

const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("janvier", 1),
    ("januar", 1),
    ("jänner", 1),
    ("jan", 1),
    ("february", 2),
    ("février", 2),
    ("fevrier", 2),
    ("februar", 2),
    ("feb", 2),
    ("fév", 2),
    ("march", 3),
    ("mars", 3),
    ("märz", 3),
    ("maerz", 3),
    ("mar", 3),
    ("april", 4),
    ("avril", 4),
    ("apr", 4),
    ("avr", 4),
    ("may", 5),
    ("mai", 5),
    ("june", 6),
    ("juin", 6),
    ("juni", 6),
    ("jun", 6),
    ("july", 7),
    ("juillet", 7),
    ("juli", 7),
    ("jul", 7),
    ("august", 8),
    ("août", 8),
    ("aout", 8),
    ("aug", 8),
    ("september", 9),
    ("septembre", 9),
    ("sept", 9),
    ("sep", 9),
    ("october", 10),
    ("octobre", 10),
    ("oktober", 10),
    ("oct", 10),
    ("okt", 10),
    ("november", 11),
    ("novembre", 11),
    ("nov", 11),
    ("december", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("dezember", 12),
    ("dec", 12),
    ("dez", 12),
];

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Mon),
    ("lundi", Weekday::Mon),
    ("montag", Weekday::Mon),
    ("mon", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("mardi", Weekday::Tue),
    ("dienstag", Weekday::Tue),
    ("tues", Weekday::Tue),
    ("tue", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("mercredi", Weekday::Wed),
    ("mittwoch", Weekday::Wed),
    ("wed", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("jeudi", Weekday::Thu),
    ("donnerstag", Weekday::Thu),
    ("thurs", Weekday::Thu),
    ("thu", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("vendredi", Weekday::Fri),
    ("freitag", Weekday::Fri),
    ("fri", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("samedi", Weekday::Sat),
    ("samstag", Weekday::Sat),
    ("sat", Weekday::Sat),
    ("sunday", Weekday::Sun),
    ("dimanche", Weekday::Sun),
    ("sonntag", Weekday::Sun),
    ("sun", Weekday::Sun),
];

fn alternation<T>(names: &[(&str, T)]) -> String {
    let mut names: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.join("|")
}

/// The patterns, most specific first; a later match overlapping an earlier one is dropped.
static PATTERNS: LazyLock<Vec<(Shape, Regex)>> = LazyLock::new(|| {
    let (m, w) = (alternation(MONTHS), alternation(WEEKDAYS));
    let day = r"\d{1,2}(?:st|nd|rd|th|er)?\.?";
    let joiner = r"\s*(?:,|and|&|et|und|-|–|—|to|au|bis)\s*";
    let weekday = format!(r"(?:(?P<wd>{w})\.?,?\s+(?:the\s+|le\s+|den\s+)?)?");
    let specs = [
        (
            Shape::DayMonth,
            format!(
                r"(?i)\b{weekday}(?P<d>\d{{1,2}})(?:st|nd|rd|th|er)?\.?(?:{joiner}{day})*\s+(?:of\s+)?(?P<m>{m})\b\.?(?:,?\s+(?P<y>\d{{4}})\b)?"
            ),
        ),
        (
            Shape::MonthDay,
            format!(
                r"(?i)\b{weekday}(?P<m>{m})\.?\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{{4}})\b)?"
            ),
        ),
        (
            Shape::Numeric,
            r"\b(?P<d>\d{1,2})[/.](?P<m>\d{1,2})[/.](?P<y>\d{4})\b".to_owned(),
        ),
        (
            Shape::Iso,
            r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b".to_owned(),
        ),
        (
            Shape::MonthYear,
            format!(r"(?i)\b(?P<m>{m})\.?\s+(?P<y>\d{{4}})\b"),
        ),
    ];
    specs
        .into_iter()
        .map(|(shape, re)| (shape, Regex::new(&re).expect("date pattern")))
        .collect()
});

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    DayMonth,
    MonthDay,
    Numeric,
    Iso,
    MonthYear,
}

/// Every date in `sentence`, in order of appearance.
pub fn dates_in(sentence: &str, reference: NaiveDate) -> Vec<Found> {
    let mut found: Vec<Found> = Vec::new();
    // Text a more specific pattern matched stays claimed even when it is no date
    // ("31 February 2023" is not read as "February 2023").
    let mut claimed: Vec<(usize, usize)> = Vec::new();
    for (shape, re) in PATTERNS.iter() {
        for caps in re.captures_iter(sentence) {
            let whole = caps.get(0).expect("match");
            if claimed
                .iter()
                .any(|&(s, e)| whole.start() < e && s < whole.end())
            {
                continue;
            }
            claimed.push((whole.start(), whole.end()));
            if let Some(when) = interpret(*shape, &caps, reference) {
                found.push(Found {
                    when,
                    start: whole.start(),
                    end: whole.end(),
                });
            }
        }
    }
    found.sort_by_key(|f| f.start);
    found
}

fn interpret(shape: Shape, caps: &Captures<'_>, reference: NaiveDate) -> Option<DateSpec> {
    let number = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u32>().ok());
    let month = match shape {
        Shape::Numeric | Shape::Iso => number("m")?,
        _ => {
            let name = caps.name("m")?.as_str();
            if name == "may" {
                return None;
            }
            let lower = name.to_lowercase();
            MONTHS.iter().find(|(n, _)| *n == lower)?.1
        }
    };
    let year = caps.name("y").and_then(|y| y.as_str().parse::<i32>().ok());
    if shape == Shape::MonthYear {
        return DateSpec::month(year?, month);
    }
    let day = number("d")?;
    let weekday = caps.name("wd").and_then(|w| {
        let lower = w.as_str().to_lowercase();
        WEEKDAYS.iter().find(|(n, _)| *n == lower).map(|(_, d)| *d)
    });
    let date = match year {
        Some(y) => NaiveDate::from_ymd_opt(y, month, day)?,
        None => infer_year(month, day, weekday, reference)?,
    };
    Some(DateSpec::Day(date))
}

fn infer_year(
    month: u32,
    day: u32,
    weekday: Option<Weekday>,
    reference: NaiveDate,
) -> Option<NaiveDate> {
    let this = NaiveDate::from_ymd_opt(reference.year(), month, day);
    let next = NaiveDate::from_ymd_opt(reference.year() + 1, month, day);
    let default = match this {
        Some(d) if d >= reference => Some(d),
        _ => next.or(this),
    };
    match weekday {
        Some(w) if default.is_some_and(|d| d.weekday() != w) => [this, next]
            .into_iter()
            .flatten()
            .find(|d| d.weekday() == w)
            .or(default),
        _ => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(text: &str) -> Option<String> {
        let reference = NaiveDate::from_ymd_opt(2023, 4, 20).unwrap();
        dates_in(text, reference)
            .first()
            .map(|f| format!("{} @{}", f.when, &text[f.start..f.end]))
    }

    #[test]
    fn written_dates() {
        assert_eq!(
            first("by latest 3 May 2023."),
            Some("2023-05-03 @3 May 2023".into())
        );
        assert_eq!(
            first("on 14, 15 and 16 November 2022 in Prague"),
            Some("2022-11-14 @14, 15 and 16 November 2022".into())
        );
        assert_eq!(
            first("held on 22-24 November 2023"),
            Some("2023-11-22 @22-24 November 2023".into())
        );
        assert_eq!(
            first("on 30 and 31 May 2023"),
            Some("2023-05-30 @30 and 31 May 2023".into())
        );
        assert_eq!(
            first("from 30 May – 1 June in Stockholm"),
            Some("2023-05-30 @30 May".into())
        );
        assert_eq!(
            first("by Friday 12 May"),
            Some("2023-05-12 @Friday 12 May".into())
        );
        assert_eq!(
            first("by May 3rd, 2023"),
            Some("2023-05-03 @May 3rd, 2023".into())
        );
        assert_eq!(
            first("deadline: 15/09/2023"),
            Some("2023-09-15 @15/09/2023".into())
        );
        assert_eq!(
            first("until 2023-09-15"),
            Some("2023-09-15 @2023-09-15".into())
        );
        assert_eq!(
            first("in December 2024 in Bratislava"),
            Some("2024-12 @December 2024".into())
        );
        assert_eq!(
            first("avant le 3 mai 2023"),
            Some("2023-05-03 @3 mai 2023".into())
        );
        assert_eq!(
            first("bis zum 3. Mai 2023"),
            Some("2023-05-03 @3. Mai 2023".into())
        );
        assert_eq!(first("le 1er mars"), Some("2024-03-01 @1er mars".into()));
    }

    #[test]
    fn years_inferred_from_the_reference() {
        // 20 April 2023: 30 September is ahead, 10 January is next year.
        assert_eq!(
            first("no later than 30 September"),
            Some("2023-09-30 @30 September".into())
        );
        assert_eq!(
            first("by 10 January"),
            Some("2024-01-10 @10 January".into())
        );
        // 12 May is a Friday in 2023 but a Sunday in 2024.
        assert_eq!(
            first("by Sunday 12 May"),
            Some("2024-05-12 @Sunday 12 May".into())
        );
    }

    #[test]
    fn not_dates() {
        assert_eq!(first("members may 2023 differ"), None);
        assert_eq!(first("the 2025-2030 strategy"), None);
        assert_eq!(first("30 regions and 2030 targets"), None);
        assert_eq!(first("on 31 February 2023"), None);
    }
}
