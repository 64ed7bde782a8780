//! Occurrences: what the calendar holds, one dated happening at a time.
//!
//! A one-off item has one occurrence (itself); a series ([`Repeat`]) one per date of its rule.
//! An [`Occurrence`] carries the item **as it reads on that occurrence** — its own start (or
//! due date) and end, and an override's title, mode and place — so the renderers that take a
//! [`Meeting`] or [`Deadline`] work on occurrences unchanged.
//!
//! Everything is lazy: [`Calendar::occurrences_from`] merges one iterator per item, holding
//! one pending occurrence per item, never a whole series. Order is by actual start instant
//! (whole days from 00:00 in the calendar zone), the coarser precision first on ties, then
//! calendar order (calls, deadlines, meetings, milestones).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use super::{Calendar, DateSpec, Deadline, Item, ItemRef, Meeting, occurrence_id};
use crate::calendar::ids::split_occurrence_id;
use crate::calendar::recurrence::{Instance, Repeat, Series, Status};

/// One happening of an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    /// `<item id>@<original local date>` in a series ([`occurrence_id`]); the item's id for a
    /// one-off item.
    pub id: String,
    /// The date the rule puts this occurrence on (its ICS RECURRENCE-ID); `None` for a one-off
    /// item.
    pub original: Option<NaiveDate>,
    /// An override gave it another start than the rule's.
    pub moved: bool,
    /// Cancelled: the whole item, or this date alone (`except`). For a meeting, the item's
    /// `cancelled` says the same, so listings strike it through as before.
    pub cancelled: bool,
    /// The item as it reads on this occurrence, `repeat` cleared. Its `id` stays the item's,
    /// so `item.item_ref()` finds the stored item.
    pub item: Item,
}

impl Occurrence {
    /// The occurrence's start: a meeting's start, a deadline's due date, a call's opening.
    pub fn start(&self) -> &DateSpec {
        self.item.when()
    }

    /// A meeting occurrence's end.
    pub fn end(&self) -> Option<&DateSpec> {
        match &self.item {
            Item::Meeting(m) => m.end.as_ref(),
            _ => None,
        }
    }

    /// The stored item this is an occurrence of.
    pub fn item_ref(&self) -> ItemRef {
        self.item.item_ref()
    }

    /// The meeting, if this is a meeting's occurrence.
    pub fn meeting(&self) -> Option<&Meeting> {
        match &self.item {
            Item::Meeting(m) => Some(m),
            _ => None,
        }
    }

    /// The deadline, if this is a deadline's occurrence.
    pub fn deadline(&self) -> Option<&Deadline> {
        match &self.item {
            Item::Deadline(d) => Some(d),
            _ => None,
        }
    }

    fn single(item: Item) -> Self {
        let cancelled = matches!(&item, Item::Meeting(m) if m.cancelled);
        Occurrence {
            id: item.id().to_owned(),
            original: None,
            moved: false,
            cancelled,
            item,
        }
    }
}

/// What can repeat: a meeting or a deadline.
trait Recurring: Clone {
    fn id(&self) -> &str;
    fn start(&self) -> &DateSpec;
    fn end(&self) -> Option<&DateSpec>;
    fn repeat(&self) -> Option<&Repeat>;
    /// The item as it reads on `instance`.
    fn on(&self, instance: &Instance<'_>) -> Item;
    fn whole(&self) -> Item;

    fn series(&self) -> Option<Series<'_>> {
        Some(Series {
            start: self.start(),
            end: self.end(),
            repeat: self.repeat()?,
        })
    }

    fn occurrence(&self, instance: &Instance<'_>) -> Occurrence {
        let item = self.on(instance);
        // A cancelled meeting series cancels every occurrence.
        let whole_cancelled = matches!(&item, Item::Meeting(m) if m.cancelled);
        Occurrence {
            id: occurrence_id(self.id(), instance.original),
            original: Some(instance.original),
            moved: instance.moved,
            cancelled: whole_cancelled || instance.status == Status::Cancelled,
            item,
        }
    }

    fn occurrences_from<'a>(&'a self, from: DateTime<Utc>, date_tz: Tz) -> Stream<'a> {
        match self.series() {
            Some(series) => Box::new(
                series
                    .from(from, date_tz)
                    .map(move |instance| self.occurrence(&instance)),
            ),
            None => one_off(self.start(), from, date_tz, || self.whole()),
        }
    }
}

impl Meeting {
    /// The meeting as a series, if it repeats.
    pub fn series(&self) -> Option<Series<'_>> {
        Recurring::series(self)
    }

    /// Its occurrences starting at or after `from` (see [`Item::occurrences_from`]).
    pub fn occurrences_from(&self, from: DateTime<Utc>, date_tz: Tz) -> Stream<'_> {
        Recurring::occurrences_from(self, from, date_tz)
    }
}

impl Deadline {
    /// The deadline as a series, if it repeats.
    pub fn series(&self) -> Option<Series<'_>> {
        Recurring::series(self)
    }

    /// Its occurrences starting at or after `from` (see [`Item::occurrences_from`]).
    pub fn occurrences_from(&self, from: DateTime<Utc>, date_tz: Tz) -> Stream<'_> {
        Recurring::occurrences_from(self, from, date_tz)
    }
}

impl Recurring for Meeting {
    fn id(&self) -> &str {
        &self.id
    }
    fn start(&self) -> &DateSpec {
        &self.start
    }
    fn end(&self) -> Option<&DateSpec> {
        self.end.as_ref()
    }
    fn repeat(&self) -> Option<&Repeat> {
        self.repeat.as_ref()
    }
    fn whole(&self) -> Item {
        Item::Meeting(self.clone())
    }

    fn on(&self, instance: &Instance<'_>) -> Item {
        let mut m = Meeting {
            repeat: None,
            start: instance.start.clone(),
            end: instance.end.clone(),
            ..self.clone()
        };
        match instance.status {
            Status::Planned => {}
            Status::Cancelled => m.cancelled = true,
            Status::Overridden(o) => {
                if let Some(title) = &o.title {
                    m.title.clone_from(title);
                }
                if let Some(mode) = o.mode {
                    m.mode = mode;
                }
                if let Some(location) = &o.location {
                    m.location = Some(location.clone()).filter(|l| !l.is_empty());
                }
                if let Some(link) = &o.join_link {
                    m.join_link = Some(link.clone()).filter(|l| !l.is_empty());
                }
            }
        }
        Item::Meeting(m)
    }
}

impl Recurring for Deadline {
    fn id(&self) -> &str {
        &self.id
    }
    fn start(&self) -> &DateSpec {
        &self.due
    }
    fn end(&self) -> Option<&DateSpec> {
        None
    }
    fn repeat(&self) -> Option<&Repeat> {
        self.repeat.as_ref()
    }
    fn whole(&self) -> Item {
        Item::Deadline(self.clone())
    }

    fn on(&self, instance: &Instance<'_>) -> Item {
        let mut d = Deadline {
            repeat: None,
            due: instance.start.clone(),
            ..self.clone()
        };
        if let Status::Overridden(o) = instance.status
            && let Some(title) = &o.title
        {
            d.title.clone_from(title);
        }
        Item::Deadline(d)
    }
}

/// The occurrences of one item, boxed so that the four kinds merge as one.
pub type Stream<'a> = Box<dyn Iterator<Item = Occurrence> + 'a>;

fn one_off<'a>(
    start: &DateSpec,
    from: DateTime<Utc>,
    date_tz: Tz,
    item: impl FnOnce() -> Item + 'a,
) -> Stream<'a> {
    let due = start.start_utc(date_tz) >= from;
    Box::new(due.then(item).map(Occurrence::single).into_iter())
}

impl Item {
    /// The item's recurrence rule, if it is a series.
    pub fn repeat(&self) -> Option<&Repeat> {
        match self {
            Item::Meeting(m) => m.repeat.as_ref(),
            Item::Deadline(d) => d.repeat.as_ref(),
            _ => None,
        }
    }

    /// The item's occurrences whose start is at or after `from`, in order (cancelled ones
    /// included, marked); days are placed in `date_tz`. Infinite for an open series.
    pub fn occurrences_from(&self, from: DateTime<Utc>, date_tz: Tz) -> Stream<'_> {
        match self {
            Item::Meeting(m) => Recurring::occurrences_from(m, from, date_tz),
            Item::Deadline(d) => Recurring::occurrences_from(d, from, date_tz),
            other => one_off(other.when(), from, date_tz, || other.clone()),
        }
    }

    /// The occurrence named `id`: the item itself for its own id if it is one-off, else an
    /// [`occurrence_id`] of one of its dates (moved or not, cancelled or not).
    pub fn occurrence(&self, id: &str) -> Option<Occurrence> {
        let on = |original: NaiveDate| -> Option<Occurrence> {
            match self {
                Item::Meeting(m) => Recurring::series(m)?
                    .get(original)
                    .map(|i| m.occurrence(&i)),
                Item::Deadline(d) => Recurring::series(d)?
                    .get(original)
                    .map(|i| d.occurrence(&i)),
                _ => None,
            }
        };
        match split_occurrence_id(id) {
            Some((item, original)) if item == self.id() => on(original),
            _ if id == self.id() && self.repeat().is_none() => {
                Some(Occurrence::single(self.clone()))
            }
            _ => None,
        }
    }
}

impl Calendar {
    /// Every occurrence starting at or after `from`, in order (see the module docs), cancelled
    /// ones included and marked. Infinite when a series is.
    pub fn occurrences_from(
        &self,
        from: DateTime<Utc>,
        date_tz: Tz,
    ) -> impl Iterator<Item = Occurrence> + '_ {
        let calls = self
            .calls
            .iter()
            .map(move |c| one_off(&c.opens, from, date_tz, || Item::Call(c.clone())));
        let deadlines = self
            .deadlines
            .iter()
            .map(move |d| Recurring::occurrences_from(d, from, date_tz));
        let meetings = self
            .meetings
            .iter()
            .map(move |m| Recurring::occurrences_from(m, from, date_tz));
        let milestones = self
            .milestones
            .iter()
            .map(move |m| one_off(&m.when, from, date_tz, || Item::Milestone(m.clone())));
        Merge {
            streams: calls
                .chain(deadlines)
                .chain(meetings)
                .chain(milestones)
                .map(|s| (None, s))
                .collect(),
            date_tz,
        }
    }

    /// Occurrences starting in `[from, to)`, in order; cancelled ones included and marked.
    pub fn occurrences_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        date_tz: Tz,
    ) -> impl Iterator<Item = Occurrence> + '_ {
        self.occurrences_from(from, date_tz)
            .take_while(move |o| o.start().start_utc(date_tz) < to)
    }

    /// For each item that `keep` accepts, its first occurrence not past at `now` and not
    /// cancelled, soonest first: one-off items as they are, a series by its next date. Always
    /// finite, so "what is next for this group" ends even beside open series of other groups.
    pub fn next_of_each(
        &self,
        now: DateTime<Utc>,
        date_tz: Tz,
        keep: impl Fn(&Item) -> bool,
    ) -> Vec<Occurrence> {
        let mut next: Vec<Occurrence> = self
            .items()
            .iter()
            .filter(|item| keep(item) && !matches!(item, Item::Meeting(m) if m.cancelled))
            .filter_map(|item| {
                // Only `except` dates are cancelled in a live series, and they are finite.
                item.occurrences_from(now - TimeDelta::days(32), date_tz)
                    .filter(|o| !o.start().is_past(now, date_tz))
                    .find(|o| !o.cancelled)
            })
            .collect();
        next.sort_by_key(|o| (o.start().start_utc(date_tz), o.start().sort_key().1));
        next
    }

    /// The first occurrence starting after `after` that is not cancelled.
    pub fn next_occurrence(&self, after: DateTime<Utc>, date_tz: Tz) -> Option<Occurrence> {
        self.occurrences_from(after, date_tz)
            .find(|o| !o.cancelled && o.start().start_utc(date_tz) > after)
    }

    /// The occurrence named `id` ([`occurrence_id`], or a one-off item's id) among the items
    /// of `kind`'s list.
    pub fn occurrence(&self, r: &ItemRef) -> Option<Occurrence> {
        let item_id = split_occurrence_id(&r.id).map_or(r.id.as_str(), |(item, _)| item);
        self.get(&ItemRef {
            kind: r.kind,
            id: item_id.to_owned(),
        })?
        .occurrence(&r.id)
    }
}

/// Where an occurrence goes in the merged order: start instant, then the coarser precision.
type Key = (DateTime<Utc>, u8);

/// A k-way merge of the items' streams, holding one pending occurrence per item.
struct Merge<'a> {
    streams: Vec<(Option<(Key, Occurrence)>, Stream<'a>)>,
    date_tz: Tz,
}

impl Iterator for Merge<'_> {
    type Item = Occurrence;

    fn next(&mut self) -> Option<Occurrence> {
        let tz = self.date_tz;
        for (head, stream) in &mut self.streams {
            if head.is_none() {
                *head = stream
                    .next()
                    .map(|o| ((o.start().start_utc(tz), o.start().sort_key().1), o));
            }
        }
        let (i, _) = self
            .streams
            .iter()
            .enumerate()
            .filter_map(|(i, (head, _))| head.as_ref().map(|(key, _)| (i, *key)))
            .min_by_key(|(i, key)| (*key, *i))?;
        self.streams[i].0.take().map(|(_, o)| o)
    }
}
