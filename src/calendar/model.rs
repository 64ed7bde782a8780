//! The calendar's items — calls, deadlines, meetings, milestones — and the [`Calendar`] that
//! holds them.
//!
//! - Every item has a stable `id` (slug-like, given in the file or derived from title and date
//!   by [`derive_id`]); ICS UIDs and reminder keys are built from it.
//! - `groups` holds group slugs (`digital`, `health`, `research-innovation`, `territorial`);
//!   an empty list means the item concerns all groups.
//! - All types serialise with serde (dates in [`DateSpec`]'s canonical string form) so a store
//!   can keep them as JSON.
//! - A meeting or deadline may repeat ([`Repeat`], see [`recurrence`](super::recurrence)).
//!   Whatever asks "what happens when" goes through [`Occurrence`]s
//!   ([`Calendar::occurrences_between`], [`Calendar::next_of_each`]): a one-off item is one
//!   occurrence, a series one per date, each with its own start, end and details
//!   (`model/occurrence.rs`).

use std::fmt;

use serde::{Deserialize, Serialize};

pub use super::datespec::DateSpec;
pub use super::ids::{derive_id, occurrence_id, slugify, split_occurrence_id};
pub use super::recurrence::Repeat;

mod occurrence;

pub use occurrence::Occurrence;

/// A call for applications: for group members, or to set up a skills partnership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub groups: Vec<String>,
    pub kind: CallKind,
    pub opens: DateSpec,
    pub closes: DateSpec,
    /// Where the call is published, if anywhere.
    #[serde(default)]
    pub link: Option<String>,
}

/// Who a call is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallKind {
    /// Core members, leaders and experts of the working groups.
    Members,
    /// Expressions of interest to establish a regional skills partnership.
    Partnership,
}

/// Something due: comments, papers, feedback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub id: String,
    pub title: String,
    pub due: DateSpec,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Where the deadline comes from (minutes, a mail), for the reader to check.
    #[serde(default)]
    pub source: Option<String>,
    /// A recurring deadline (a monthly report): `due` is the first occurrence. Left out of the
    /// JSON when absent, so one-off items keep their stored form (and revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<Repeat>,
}

/// A working-group meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    pub id: String,
    pub title: String,
    #[serde(default)]
    pub groups: Vec<String>,
    pub mode: Mode,
    /// The zone of an exact start lives in the [`DateSpec`]; see [`Meeting::tz`].
    pub start: DateSpec,
    /// Same precision as `start` (and the same zone); `None` when unknown or a single day.
    #[serde(default)]
    pub end: Option<DateSpec>,
    #[serde(default)]
    pub location: Option<String>,
    #[serde(default)]
    pub join_link: Option<String>,
    #[serde(default)]
    pub agenda: Vec<AgendaItem>,
    #[serde(default)]
    pub minutes_link: Option<String>,
    /// The whole meeting, or for a series every occurrence (one occurrence is cancelled in
    /// [`Repeat::except`]).
    #[serde(default)]
    pub cancelled: bool,
    /// A series: `start` and `end` are the first occurrence's. Left out of the JSON when
    /// absent, so one-off items keep their stored form (and revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<Repeat>,
}

/// Online or in a room.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Online,
    Physical,
}

/// One numbered point of a meeting's programme ("1.2 Adoption of the agenda — point for
/// decision"), with the documents it discusses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaItem {
    /// The number as printed: "3", "1.2".
    pub n: String,
    pub title: String,
    /// `None` for unmarked points (section headings, follow-ups).
    #[serde(default)]
    pub kind: Option<AgendaKind>,
    /// Links to the point's documents (`https://…`); left out of the JSON when there are
    /// none, so agendas stored before keep their form (and revision).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub docs: Vec<String>,
}

/// How a programme marks a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgendaKind {
    Decision,
    Information,
    Discussion,
}

/// A publication or event on the timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    pub id: String,
    pub title: String,
    pub when: DateSpec,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Any calendar item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Item {
    Call(Call),
    Deadline(Deadline),
    Meeting(Meeting),
    Milestone(Milestone),
}

/// The four kinds of item; their lowercase names prefix UIDs and reminder keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Call,
    Deadline,
    Meeting,
    Milestone,
}

/// A reference to an item: its kind and id (`meeting:online-2024-04-24`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ItemRef {
    pub kind: ItemKind,
    pub id: String,
}

/// Everything the secretariat has planned, one list per kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    #[serde(default)]
    pub calls: Vec<Call>,
    #[serde(default)]
    pub deadlines: Vec<Deadline>,
    #[serde(default)]
    pub meetings: Vec<Meeting>,
    #[serde(default)]
    pub milestones: Vec<Milestone>,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Call => "call",
            ItemKind::Deadline => "deadline",
            ItemKind::Meeting => "meeting",
            ItemKind::Milestone => "milestone",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            ItemKind::Call,
            ItemKind::Deadline,
            ItemKind::Meeting,
            ItemKind::Milestone,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for ItemRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.id)
    }
}

impl CallKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Members => "members",
            CallKind::Partnership => "partnership",
        }
    }
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Online => "online",
            Mode::Physical => "physical",
        }
    }
}

impl AgendaKind {
    /// The label used in programmes: "point for decision".
    pub fn label(self) -> &'static str {
        match self {
            AgendaKind::Decision => "point for decision",
            AgendaKind::Information => "information point",
            AgendaKind::Discussion => "point for discussion",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AgendaKind::Decision => "decision",
            AgendaKind::Information => "information",
            AgendaKind::Discussion => "discussion",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            AgendaKind::Decision,
            AgendaKind::Information,
            AgendaKind::Discussion,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl Meeting {
    /// The zone of the meeting's exact times, if it has any.
    pub fn tz(&self) -> Option<chrono_tz::Tz> {
        match self.start {
            DateSpec::At { tz, .. } => Some(tz),
            _ => None,
        }
    }

    /// Physical, with a location naming Brussels in English, French or Dutch.
    pub fn is_physical_in_brussels(&self) -> bool {
        self.mode == Mode::Physical
            && self.location.as_deref().is_some_and(|l| {
                let l = l.to_lowercase();
                ["brussel", "bruxelles"].iter().any(|city| l.contains(city))
            })
    }
}

impl Item {
    pub fn kind(&self) -> ItemKind {
        match self {
            Item::Call(_) => ItemKind::Call,
            Item::Deadline(_) => ItemKind::Deadline,
            Item::Meeting(_) => ItemKind::Meeting,
            Item::Milestone(_) => ItemKind::Milestone,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Item::Call(c) => &c.id,
            Item::Deadline(d) => &d.id,
            Item::Meeting(m) => &m.id,
            Item::Milestone(m) => &m.id,
        }
    }

    pub fn title(&self) -> &str {
        match self {
            Item::Call(c) => &c.title,
            Item::Deadline(d) => &d.title,
            Item::Meeting(m) => &m.title,
            Item::Milestone(m) => &m.title,
        }
    }

    pub fn groups(&self) -> &[String] {
        match self {
            Item::Call(c) => &c.groups,
            Item::Deadline(d) => &d.groups,
            Item::Meeting(m) => &m.groups,
            Item::Milestone(m) => &m.groups,
        }
    }

    /// The item's main date: when a call opens, a deadline is due, a meeting starts.
    pub fn when(&self) -> &DateSpec {
        match self {
            Item::Call(c) => &c.opens,
            Item::Deadline(d) => &d.due,
            Item::Meeting(m) => &m.start,
            Item::Milestone(m) => &m.when,
        }
    }

    pub fn item_ref(&self) -> ItemRef {
        ItemRef {
            kind: self.kind(),
            id: self.id().to_owned(),
        }
    }

    /// Whether the item concerns `group` (`None` = any group).
    pub fn concerns(&self, group: Option<&str>) -> bool {
        concerns(self.groups(), group)
    }
}

/// An empty group list concerns every group; no group asked matches everything.
pub fn concerns(groups: &[String], group: Option<&str>) -> bool {
    match group {
        None => true,
        Some(g) => groups.is_empty() || groups.iter().any(|x| x == g),
    }
}

impl Calendar {
    /// Sorts items into their lists, keeping their order.
    pub fn from_items(items: impl IntoIterator<Item = Item>) -> Self {
        let mut cal = Calendar::default();
        for item in items {
            match item {
                Item::Call(c) => cal.calls.push(c),
                Item::Deadline(d) => cal.deadlines.push(d),
                Item::Meeting(m) => cal.meetings.push(m),
                Item::Milestone(m) => cal.milestones.push(m),
            }
        }
        cal
    }

    /// All items: calls, deadlines, meetings, then milestones.
    pub fn items(&self) -> Vec<Item> {
        let calls = self.calls.iter().cloned().map(Item::Call);
        let deadlines = self.deadlines.iter().cloned().map(Item::Deadline);
        let meetings = self.meetings.iter().cloned().map(Item::Meeting);
        let milestones = self.milestones.iter().cloned().map(Item::Milestone);
        calls
            .chain(deadlines)
            .chain(meetings)
            .chain(milestones)
            .collect()
    }

    pub fn meeting(&self, id: &str) -> Option<&Meeting> {
        self.meetings.iter().find(|m| m.id == id)
    }

    /// Every item of the calendar, owned, found by reference.
    pub fn get(&self, r: &ItemRef) -> Option<Item> {
        self.items()
            .into_iter()
            .find(|i| i.kind() == r.kind && i.id() == r.id)
    }
}

#[cfg(test)]
mod tests;
