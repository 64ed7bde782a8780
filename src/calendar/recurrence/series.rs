//! A series in time: the rule's dates put at the series' local time, with its exceptions
//! applied, in the order of their actual start.
//!
//! - Each occurrence gets the start's time of day and zone on its date
//!   ([`DateSpec::on_date`]) and the series' duration measured on the wall clock, so a
//!   10:00–12:30 meeting is 10:00–12:30 local on every date.
//! - A cancelled date (`except`) is still yielded, marked [`Status::Cancelled`], so listings
//!   can strike it through; reminders, cadence and "next" skip it.
//! - An override without a new start keeps its place in the rule's order. One with a new start
//!   (`to`) may land anywhere, even before earlier occurrences: the few moved ones are kept
//!   aside, sorted by their new start, and merged into the rule's dates as the iterator goes.

use std::vec;

use chrono::{DateTime, Days, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::Tz;

use super::{Dates, Override, Repeat};
use crate::calendar::datespec::DateSpec;

/// A series: the first occurrence's start and end, and the rule.
#[derive(Clone, Copy, Debug)]
pub struct Series<'a> {
    pub start: &'a DateSpec,
    pub end: Option<&'a DateSpec>,
    pub repeat: &'a Repeat,
}

/// How an occurrence stands against the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<'a> {
    /// As the rule has it.
    Planned,
    /// Cancelled on its own (`except`, an ICS EXDATE).
    Cancelled,
    /// Moved or changed (an ICS RECURRENCE-ID).
    Overridden(&'a Override),
}

/// One occurrence of a series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instance<'a> {
    /// The date the rule puts it on: its identity, whatever the overrides say.
    pub original: NaiveDate,
    /// Its actual start and end.
    pub start: DateSpec,
    pub end: Option<DateSpec>,
    pub status: Status<'a>,
    /// The override gave it another start than the rule's.
    pub moved: bool,
}

impl<'a> Series<'a> {
    /// The local date of the first occurrence.
    pub fn first_day(&self) -> NaiveDate {
        self.start.first_day()
    }

    /// The occurrence originally on `date`, if the rule has one there.
    pub fn get(&self, date: NaiveDate) -> Option<Instance<'a>> {
        self.repeat
            .occurs_on(self.first_day(), date)
            .then(|| self.instance(date))
    }

    /// Occurrences whose actual start is at or after `from`, in order of start (ties in
    /// original-date order); days are placed in `date_tz`. Lazy: infinite for an open series.
    pub fn from(&self, from: DateTime<Utc>, date_tz: Tz) -> Instances<'a> {
        let first = self.first_day();
        let not_before = if from <= self.start.start_utc(date_tz) {
            first
        } else {
            // A day of slack: a local date can start up to a day before `from`'s local date.
            local_date(from, self.start.zone(date_tz))
                .checked_sub_days(Days::new(1))
                .unwrap_or(first)
        };
        let mut moved: Vec<(DateTime<Utc>, Instance<'a>)> = self
            .repeat
            .overrides
            .iter()
            .filter(|o| o.to.is_some() && self.repeat.occurs_on(first, o.on))
            .map(|o| self.instance(o.on))
            .filter(|i| i.moved)
            .map(|i| (i.start.start_utc(date_tz), i))
            .filter(|(t, _)| *t >= from)
            .collect();
        moved.sort_by_key(|(t, i)| (*t, i.original));
        Instances {
            series: *self,
            dates: self.repeat.dates_from(first, not_before),
            from,
            date_tz,
            rule_head: None,
            moved: moved.into_iter(),
            moved_head: None,
        }
    }

    /// The occurrence on a date of the rule (not checked), exceptions applied.
    fn instance(&self, original: NaiveDate) -> Instance<'a> {
        let planned = self.start.on_date(original);
        let status = if self.repeat.except.contains(&original) {
            Status::Cancelled
        } else {
            match self.repeat.override_on(original) {
                Some(o) => Status::Overridden(o),
                None => Status::Planned,
            }
        };
        let (start, end, moved) = match status {
            Status::Overridden(o) => {
                let start = o.to.clone().unwrap_or_else(|| planned.clone());
                let end = o.end.clone().or_else(|| self.end_for(&start));
                let moved = start != planned;
                (start, end, moved)
            }
            _ => {
                let end = self.end_for(&planned);
                (planned, end, false)
            }
        };
        Instance {
            original,
            start,
            end,
            status,
            moved,
        }
    }

    /// The series' end moved along with a start: the same wall-clock duration, or the same
    /// number of days.
    pub fn end_for(&self, start: &DateSpec) -> Option<DateSpec> {
        match (self.start, self.end?, start) {
            (
                DateSpec::At { local: s, .. },
                DateSpec::At { local: e, tz },
                DateSpec::At { local, .. },
            ) => Some(DateSpec::At {
                local: *local + (*e - *s),
                tz: *tz,
            }),
            (DateSpec::Day(s), DateSpec::Day(e), DateSpec::Day(d)) => {
                let days = u64::try_from((*e - *s).num_days()).unwrap_or(0);
                Some(DateSpec::Day(
                    d.checked_add_days(Days::new(days)).unwrap_or(*d),
                ))
            }
            _ => None,
        }
    }
}

/// The local date of `t` in `zone`; the UTC date at the edges of chrono's range, where the
/// local time would not be representable.
fn local_date(t: DateTime<Utc>, zone: Tz) -> NaiveDate {
    let offset = zone.offset_from_utc_datetime(&t.naive_utc()).fix();
    t.naive_utc()
        .checked_add_offset(offset)
        .unwrap_or(t.naive_utc())
        .date()
}

/// The occurrences of a series from an instant on: see [`Series::from`].
#[derive(Clone, Debug)]
pub struct Instances<'a> {
    series: Series<'a>,
    dates: Dates<'a>,
    from: DateTime<Utc>,
    date_tz: Tz,
    /// The next occurrence from the rule and the next moved one, each with its start instant.
    rule_head: Option<(DateTime<Utc>, Instance<'a>)>,
    moved: vec::IntoIter<(DateTime<Utc>, Instance<'a>)>,
    moved_head: Option<(DateTime<Utc>, Instance<'a>)>,
}

impl Instances<'_> {
    fn fill(&mut self) {
        while self.rule_head.is_none() {
            let Some(date) = self.dates.next() else {
                break;
            };
            let instance = self.series.instance(date);
            if instance.moved {
                continue; // yielded from `moved`, at its new start
            }
            let at = instance.start.start_utc(self.date_tz);
            if at >= self.from {
                self.rule_head = Some((at, instance));
            }
        }
        if self.moved_head.is_none() {
            self.moved_head = self.moved.next();
        }
    }
}

impl<'a> Iterator for Instances<'a> {
    type Item = Instance<'a>;

    fn next(&mut self) -> Option<Instance<'a>> {
        self.fill();
        let take_moved = match (&self.rule_head, &self.moved_head) {
            (None, None) => return None,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some((r, _)), Some((m, _))) => m < r,
        };
        let head = if take_moved {
            self.moved_head.take()
        } else {
            self.rule_head.take()
        };
        head.map(|(_, instance)| instance)
    }
}
