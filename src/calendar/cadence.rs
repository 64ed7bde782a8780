//! The groups' meeting cadence: per group and calendar year, how many meetings are planned,
//! how many online, how many physical in Brussels — against the rule (by default at least 3,
//! of which at least 2 online and 1 physical in Brussels).
//!
//! Counting: a meeting counts for every group it lists (all groups when it lists none) in the
//! year of its local start date; month-only meetings count (they are planned); cancelled ones
//! do not. A series counts each occurrence in the year of its own date, with its own mode and
//! place (an override may make one session physical); cancelled occurrences do not count. "In Brussels" means physical with a location naming Brussels, Bruxelles or Brussel.
//! The rule applies to whole years; partial years at the start and end of a mandate
//! (2023, 2026 in the example) show shortfalls the secretariat may accept, so the caller picks
//! the years to check.

use std::fmt;
use std::fmt::Write as _;

use chrono::{NaiveDate, TimeDelta};
use serde::{Deserialize, Serialize};

use super::humanize::group_label;
use super::model::{Calendar, Meeting, Mode, concerns};

/// The minimum a group must plan per year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Cadence {
    pub min_meetings: u32,
    pub min_online: u32,
    pub min_physical_brussels: u32,
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence {
            min_meetings: 3,
            min_online: 2,
            min_physical_brussels: 1,
        }
    }
}

/// What one group plans in one year.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub group: String,
    pub year: i32,
    pub meetings: u32,
    pub online: u32,
    pub physical_brussels: u32,
}

/// What one group's year lacks; every count is how many are missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shortfall {
    pub group: String,
    pub year: i32,
    pub meetings: u32,
    pub online: u32,
    pub physical_brussels: u32,
}

/// Counts `group`'s planned meetings in `year`.
pub fn tally(cal: &Calendar, group: &str, year: i32) -> Tally {
    let mut t = Tally {
        group: group.to_owned(),
        year,
        meetings: 0,
        online: 0,
        physical_brussels: 0,
    };
    let mut count = |m: &Meeting| {
        t.meetings += 1;
        t.online += u32::from(m.mode == Mode::Online);
        t.physical_brussels += u32::from(m.is_physical_in_brussels());
    };
    let concerned = cal
        .meetings
        .iter()
        .filter(|m| !m.cancelled && concerns(&m.groups, Some(group)));
    for m in concerned {
        if m.repeat.is_none() {
            if m.start.year() == year {
                count(m);
            }
            continue;
        }
        let Some(from) = NaiveDate::from_ymd_opt(year, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc() - TimeDelta::days(1))
        else {
            continue;
        };
        // The year is read from local dates; UTC only orders them, with a day of slack.
        let in_year = m
            .occurrences_from(from, chrono_tz::UTC)
            .take_while(|o| o.start().year() <= year)
            .filter(|o| o.start().year() == year && !o.cancelled);
        for o in in_year {
            if let Some(m) = o.meeting() {
                count(m);
            }
        }
    }
    t
}

impl Tally {
    /// What is missing against `rule`, if anything.
    pub fn shortfall(&self, rule: &Cadence) -> Option<Shortfall> {
        let s = Shortfall {
            group: self.group.clone(),
            year: self.year,
            meetings: rule.min_meetings.saturating_sub(self.meetings),
            online: rule.min_online.saturating_sub(self.online),
            physical_brussels: rule
                .min_physical_brussels
                .saturating_sub(self.physical_brussels),
        };
        (s.meetings + s.online + s.physical_brussels > 0).then_some(s)
    }
}

/// Shortfalls of every group in every year of `years`, by year then group order.
pub fn shortfalls(
    cal: &Calendar,
    groups: &[&str],
    years: std::ops::RangeInclusive<i32>,
    rule: &Cadence,
) -> Vec<Shortfall> {
    years
        .flat_map(|year| {
            groups
                .iter()
                .filter_map(move |g| tally(cal, g, year).shortfall(rule))
        })
        .collect()
}

impl fmt::Display for Shortfall {
    /// `territorial 2025: 1 meeting, 1 physical meeting in Brussels missing`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural =
            |n: u32, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let parts: Vec<String> = [
            (self.meetings, "meeting", "meetings"),
            (self.online, "online meeting", "online meetings"),
            (
                self.physical_brussels,
                "physical meeting in Brussels",
                "physical meetings in Brussels",
            ),
        ]
        .into_iter()
        .filter(|(n, ..)| *n > 0)
        .map(|(n, one, many)| plural(n, one, many))
        .collect();
        write!(
            f,
            "{} {}: {} missing",
            self.group,
            self.year,
            parts.join(", ")
        )
    }
}

/// The `!cadence [year]` answer: a markdown table for all groups, then what is missing.
pub fn render_table(cal: &Calendar, groups: &[&str], year: i32, rule: &Cadence) -> String {
    let mut out = format!(
        "**Cadence {year}** (at least {} meetings, {} online, {} physical in Brussels)\n\n\
         | Group | Meetings | Online | In Brussels | |\n|---|---:|---:|---:|---|\n",
        rule.min_meetings, rule.min_online, rule.min_physical_brussels
    );
    let mut missing = Vec::new();
    for group in groups {
        let t = tally(cal, group, year);
        let status = match t.shortfall(rule) {
            Some(s) => {
                missing.push(s.to_string());
                "⚠️"
            }
            None => "✅",
        };
        writeln!(
            out,
            "| {} | {} | {} | {} | {status} |",
            group_label(group),
            t.meetings,
            t.online,
            t.physical_brussels
        )
        .unwrap();
    }
    if !missing.is_empty() {
        out.push('\n');
        for line in missing {
            writeln!(out, "- {line}").unwrap();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::file;

    const GROUPS: [&str; 4] = ["digital", "health", "research-innovation", "territorial"];

    fn example() -> Calendar {
        file::parse(include_str!("../../config/calendar.example.toml")).unwrap()
    }

    #[test]
    fn counts_the_example_years() {
        let cal = example();
        let t = |year| {
            let t = tally(&cal, "territorial", year);
            (t.meetings, t.online, t.physical_brussels)
        };
        assert_eq!(
            [t(2023), t(2024), t(2025), t(2026)],
            [(1, 0, 1), (2, 1, 1), (3, 2, 1), (2, 2, 0)]
        );
    }

    #[test]
    fn shortfalls_on_the_example_timeline() {
        let lines: Vec<String> = shortfalls(&example(), &GROUPS, 2024..=2026, &Cadence::default())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            [
                "digital 2024: 1 meeting, 1 online meeting missing",
                "health 2024: 1 meeting, 1 online meeting missing",
                "research-innovation 2024: 1 meeting, 1 online meeting missing",
                "territorial 2024: 1 meeting, 1 online meeting missing",
                // The example's 2026 series (a Digital sub-group, a Health webinar week)
                // count meeting by meeting; they are online, so Brussels still lacks.
                "digital 2026: 1 physical meeting in Brussels missing",
                "health 2026: 1 physical meeting in Brussels missing",
                "research-innovation 2026: 1 meeting, 1 physical meeting in Brussels missing",
                "territorial 2026: 1 meeting, 1 physical meeting in Brussels missing",
            ]
        );
    }

    #[test]
    fn group_specific_and_cancelled_meetings() {
        let mut cal = example();
        // Moving territorial's 2025 physical meeting out of Brussels leaves it short.
        let mut elsewhere = cal.meeting("physical-2025-10").unwrap().clone();
        cal.meetings.retain(|m| m.id != "physical-2025-10");
        elsewhere.groups = vec!["territorial".into()];
        elsewhere.location = Some("Bratislava".into());
        let mut others = cal.meeting("online-2025-06").unwrap().clone();
        others.id = "physical-2025-10-others".into();
        others.mode = Mode::Physical;
        others.location = Some("European Commission, Brussels".into());
        others.groups = vec![
            "digital".into(),
            "health".into(),
            "research-innovation".into(),
        ];
        cal.meetings.extend([elsewhere, others]);
        let lines: Vec<String> = shortfalls(&cal, &GROUPS, 2025..=2025, &Cadence::default())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            lines,
            ["territorial 2025: 1 physical meeting in Brussels missing"]
        );
        cal.meetings
            .iter_mut()
            .filter(|m| m.id == "online-2025-01-31")
            .for_each(|m| m.cancelled = true);
        assert_eq!(tally(&cal, "health", 2025).meetings, 2);
    }

    #[test]
    fn a_series_counts_each_occurrence_in_its_own_year() {
        use crate::calendar::recurrence::{End, Freq, Override, Repeat};
        let mut cal = Calendar::default();
        let mut m = example().meeting("online-2024-04-24").unwrap().clone();
        m.id = "quarterly".into();
        m.groups = vec!["health".into()];
        m.start = "2025-11-20T10:00".parse().unwrap();
        m.end = None;
        let mut rule = Repeat::new(Freq::Monthly);
        rule.interval = 3;
        rule.days = vec!["3th".parse().unwrap()]; // the third Thursday
        rule.end = End::Count(4); // Nov 2025, Feb, May, Aug 2026
        rule.except = vec!["2026-08-20".parse().unwrap()];
        // The May session is held in Brussels instead.
        rule.overrides = vec![Override {
            on: "2026-05-21".parse().unwrap(),
            to: None,
            end: None,
            title: None,
            mode: Some(Mode::Physical),
            location: Some("European Commission, Brussels".into()),
            join_link: None,
        }];
        rule.check(&m.start).unwrap();
        m.repeat = Some(rule);
        cal.meetings.push(m);
        let t = |cal: &Calendar, year| {
            let t = tally(cal, "health", year);
            (t.meetings, t.online, t.physical_brussels)
        };
        assert_eq!(
            [t(&cal, 2025), t(&cal, 2026), t(&cal, 2027)],
            [(1, 1, 0), (2, 1, 1), (0, 0, 0)]
        );
        assert_eq!(tally(&cal, "digital", 2026).meetings, 0);
        cal.meetings[0].cancelled = true;
        assert_eq!(t(&cal, 2026), (0, 0, 0));
    }

    #[test]
    fn renders_the_table() {
        let table = render_table(&example(), &GROUPS, 2024, &Cadence::default());
        assert!(
            table.starts_with(
                "**Cadence 2024** (at least 3 meetings, 2 online, 1 physical in Brussels)"
            ),
            "{table}"
        );
        assert!(
            table.contains("| Research & Innovation | 2 | 1 | 1 | ⚠️ |"),
            "{table}"
        );
        assert!(
            table.ends_with("- territorial 2024: 1 meeting, 1 online meeting missing\n"),
            "{table}"
        );
        assert!(
            render_table(&example(), &GROUPS, 2025, &Cadence::default())
                .contains("| Digital | 3 | 2 | 1 | ✅ |")
        );
    }
}
