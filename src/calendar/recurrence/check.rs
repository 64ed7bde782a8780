//! Which rules a series may have: [`Repeat::check`], run by the calendar file and the
//! importer, with errors naming the calendar-file key at fault.

use super::{End, Freq, Repeat, RepeatError};
use crate::calendar::datespec::DateSpec;

impl Repeat {
    /// Checks the rule against the series' start: what the calendar file and the importer
    /// accept. Sorts `except` and `overrides` so equal series compare equal. A start that is
    /// not a date of the rule is reported last, with key `start`.
    pub fn check(&mut self, start: &DateSpec) -> Result<(), RepeatError> {
        let fail = |key, message: String| Err(RepeatError { key, message });
        let first = match start {
            DateSpec::Month(_) => {
                return fail("repeat", "a month-only date cannot repeat".into());
            }
            other => other.first_day(),
        };
        if self.interval == 0 {
            return fail("interval", "must be at least 1".into());
        }
        match self.freq {
            Freq::Daily if !self.days.is_empty() => {
                return fail(
                    "days",
                    "a daily series has no weekdays; use repeat = \"weekly\" with days".into(),
                );
            }
            Freq::Weekly => {
                if let Some(d) = self.days.iter().find(|d| d.nth != 0) {
                    return fail(
                        "days",
                        format!("{d}: an ordinal weekday needs repeat = \"monthly\""),
                    );
                }
            }
            _ => {}
        }
        if let Some(d) = self.days.iter().find(|d| !(-5..=5).contains(&d.nth)) {
            return fail(
                "days",
                format!("{d}: a month has at most 5 of each weekday"),
            );
        }
        if self.freq != Freq::Monthly && !self.monthdays.is_empty() {
            return fail(
                "monthdays",
                "only a monthly series has days of the month".into(),
            );
        }
        if let Some(n) = self
            .monthdays
            .iter()
            .find(|n| **n == 0 || !(-31..=31).contains(*n))
        {
            return fail("monthdays", format!("{n} is not 1..31 or -31..-1"));
        }
        match self.end {
            End::Count(0) => return fail("count", "must be at least 1".into()),
            End::Until(until) if until < first => {
                return fail("until", format!("{until} is before the start {first}"));
            }
            _ => {}
        }
        if self.end == End::Never && self.dates(first).nth(1).is_none() {
            return fail(
                "repeat",
                "the rule gives no occurrence after the start".into(),
            );
        }
        self.except.sort();
        if let Some(w) = self.except.windows(2).find(|w| w[0] == w[1]) {
            return fail("except", format!("{} is listed twice", w[0]));
        }
        if let Some(d) = self.except.iter().find(|d| !self.occurs_on(first, **d)) {
            return fail("except", format!("{d} is not a date of the series"));
        }
        self.overrides.sort_by_key(|o| o.on);
        if let Some(w) = self.overrides.windows(2).find(|w| w[0].on == w[1].on) {
            return fail("moved", format!("{} is moved twice", w[0].on));
        }
        for o in &self.overrides {
            if !self.occurs_on(first, o.on) {
                return fail("moved", format!("{} is not a date of the series", o.on));
            }
            if self.except.contains(&o.on) {
                return fail("moved", format!("{} is also cancelled in `except`", o.on));
            }
            let same_kind = |spec: &DateSpec| match (start, spec) {
                (DateSpec::At { tz, .. }, DateSpec::At { tz: t, .. }) => tz == t,
                (DateSpec::Day(_), DateSpec::Day(_)) => true,
                _ => false,
            };
            if let Some(to) = o.to.as_ref().filter(|to| !same_kind(to)) {
                return fail(
                    "moved",
                    format!(
                        "{}: {to} must have the precision (and zone) of the start {start}",
                        o.on
                    ),
                );
            }
            if let Some(end) = &o.end {
                let begins = o.to.clone().unwrap_or_else(|| start.on_date(o.on));
                if !same_kind(end) || end.sort_key() < begins.sort_key() {
                    return fail(
                        "moved",
                        format!("{}: the end {end} must follow the start {begins}", o.on),
                    );
                }
            }
        }
        // Last, so that the importer can let an unsynchronised DTSTART through (RFC 5545
        // leaves it undefined; we keep the start as the first occurrence, as clients do).
        if !self.matches(first, first) {
            return fail(
                "start",
                format!("{first} is not a date of the rule ({})", self.summary()),
            );
        }
        Ok(())
    }

    /// "every 2 weeks on tu, th, 10 times": for error messages; `humanize`
    /// has the reader's version.
    fn summary(&self) -> String {
        let unit = match self.freq {
            Freq::Daily => "day",
            Freq::Weekly => "week",
            Freq::Monthly => "month",
        };
        let mut s = match self.interval {
            1 => format!("every {unit}"),
            n => format!("every {n} {unit}s"),
        };
        let mut on: Vec<String> = self.days.iter().map(ToString::to_string).collect();
        on.extend(self.monthdays.iter().map(ToString::to_string));
        if !on.is_empty() {
            s.push_str(&format!(" on {}", on.join(", ")));
        }
        s
    }
}
