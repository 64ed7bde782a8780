//! VTIMEZONE components for the zones a feed uses.
//!
//! Written from the rule, not from a transition list: Europe/Brussels (and every zone on the
//! EU rule — summer time from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
//! Sunday of October) gets a STANDARD and a DAYLIGHT part with yearly RRULEs, which Outlook
//! and Thunderbird expand for any year. A zone without daylight saving gets one STANDARD part.
//! Other zones (American rules and the like) get none: [`component`] returns `None` and the
//! feed writes their times in UTC, which every client reads correctly.

use chrono::{Datelike, FixedOffset, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::{OffsetName, Tz};

/// The VTIMEZONE lines for `tz`, or `None` if its rules are not the EU's and it has DST.
pub fn component(tz: Tz) -> Option<Vec<String>> {
    let offset_at = |y: i32, m: u32, d: u32, h: u32, min: u32| {
        let t = Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        tz.offset_from_utc_datetime(&t.naive_utc())
    };
    let years = [2000, 2013, 2026, 2035];
    let std = offset_at(2026, 1, 15, 12, 0);
    let mut lines = vec!["BEGIN:VTIMEZONE".to_owned(), format!("TZID:{}", tz.name())];
    let no_dst = years.iter().all(|&y| {
        [1, 4, 7, 10]
            .iter()
            .all(|&m| offset_at(y, m, 15, 12, 0).fix() == std.fix())
    });
    if no_dst {
        lines.extend(part(
            "STANDARD",
            std.fix(),
            std.fix(),
            std.abbreviation(),
            NaiveDate::from_ymd_opt(1970, 1, 1)?,
            0,
            None,
        ));
    } else {
        let dst = offset_at(2026, 7, 15, 12, 0);
        let follows_eu = years.iter().all(|&y| {
            let (march, october) = (last_sunday(y, 3), last_sunday(y, 10));
            let at = |d: NaiveDate, h, min| offset_at(y, d.month(), d.day(), h, min).fix();
            at(march, 0, 59) == std.fix()
                && at(march, 1, 0) == dst.fix()
                && at(october, 0, 59) == dst.fix()
                && at(october, 1, 0) == std.fix()
                && dst.fix().local_minus_utc() - std.fix().local_minus_utc() == 3600
        });
        if !follows_eu {
            return None;
        }
        // Local wall-clock time of the change: 01:00 UTC in the offset in force before it.
        let local_hour =
            |before: FixedOffset| (3600 + before.local_minus_utc()).rem_euclid(86_400) / 3600;
        let rule = |month| format!("RRULE:FREQ=YEARLY;BYMONTH={month};BYDAY=-1SU");
        lines.extend(part(
            "DAYLIGHT",
            std.fix(),
            dst.fix(),
            dst.abbreviation(),
            last_sunday(1996, 3),
            local_hour(std.fix()),
            Some(rule(3)),
        ));
        lines.extend(part(
            "STANDARD",
            dst.fix(),
            std.fix(),
            std.abbreviation(),
            last_sunday(1996, 10),
            local_hour(dst.fix()),
            Some(rule(10)),
        ));
    }
    lines.push("END:VTIMEZONE".to_owned());
    Some(lines)
}

fn part(
    kind: &str,
    from: FixedOffset,
    to: FixedOffset,
    name: Option<&str>,
    day: NaiveDate,
    hour: i32,
    rrule: Option<String>,
) -> Vec<String> {
    let mut lines = vec![
        format!("BEGIN:{kind}"),
        format!("DTSTART:{}T{hour:02}0000", day.format("%Y%m%d")),
        format!("TZOFFSETFROM:{}", utc_offset(from)),
        format!("TZOFFSETTO:{}", utc_offset(to)),
    ];
    lines.extend(rrule);
    if let Some(name) = name {
        lines.push(format!("TZNAME:{name}"));
    }
    lines.push(format!("END:{kind}"));
    lines
}

/// `+0100`, `-0330`.
fn utc_offset(offset: FixedOffset) -> String {
    let secs = offset.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.abs();
    format!("{sign}{:02}{:02}", secs / 3600, secs % 3600 / 60)
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let last = super::super::datespec::next_month(NaiveDate::from_ymd_opt(year, month, 1).unwrap())
        .pred_opt()
        .unwrap();
    let back = last.weekday().num_days_from_sunday();
    last - chrono::Days::new(u64::from(back))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brussels_follows_the_eu_rule() {
        assert_eq!(
            component(chrono_tz::Europe::Brussels).unwrap().join("\n"),
            "BEGIN:VTIMEZONE\nTZID:Europe/Brussels\n\
             BEGIN:DAYLIGHT\nDTSTART:19960331T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n\
             RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\nTZNAME:CEST\nEND:DAYLIGHT\n\
             BEGIN:STANDARD\nDTSTART:19961027T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\n\
             RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\nTZNAME:CET\nEND:STANDARD\nEND:VTIMEZONE"
        );
    }

    #[test]
    fn other_zones() {
        let lisbon = component(chrono_tz::Europe::Lisbon).unwrap();
        assert!(
            lisbon.contains(&"DTSTART:19960331T010000".to_owned()),
            "{lisbon:?}"
        );
        assert!(lisbon.contains(&"TZOFFSETTO:+0100".to_owned()));
        let utc = component(chrono_tz::UTC).unwrap();
        assert_eq!(utc.iter().filter(|l| l.starts_with("BEGIN:")).count(), 2);
        assert!(component(chrono_tz::America::New_York).is_none());
        assert_eq!(
            last_sunday(2026, 3),
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap()
        );
        assert_eq!(
            last_sunday(2026, 10),
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap()
        );
    }
}
