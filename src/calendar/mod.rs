//! The working groups' calendar: calls, deadlines, meetings and milestones; when to remind;
//! whether each group keeps its cadence; answers to members' questions; iCalendar feeds; and
//! deadlines spotted in minutes.
//!
//! The modules below are pure — no database, no Matrix, no network, no clock: `now` is always
//! a parameter, so every behaviour around daylight-saving changes and downtime is tested with
//! fixed instants.
//!
//! Layout:
//! - [`datespec`] — exact time / whole day / month only; sorting, "past", DST resolution.
//! - [`model`] — the items, their groups, and [`Calendar`]; their [`Occurrence`]s; [`ids`] —
//!   their stable ids.
//! - [`recurrence`] — series: weekly, monthly… rules with cancelled and moved occurrences,
//!   expanded lazily in local time.
//! - [`file`](mod@file) — the TOML calendar file (see `config/calendar.example.toml`).
//! - [`schedule`] — cron expressions fired in local time; `convene calendar preview`.
//! - [`reminders`] — offsets, due times and keys, catch-up after downtime, messages.
//! - [`cadence`] — meetings per group and year against the rule; `!cadence`.
//! - [`humanize`] — "Thu 24 Apr, 10:00 Brussels time, in 3 days".
//! - [`answers`] — `!next`, `!meetings`, `!agenda`, `!deadlines`, `!calls`, `!timeline`,
//!   `!apply`.
//! - [`ics`] — feeds with VTIMEZONE, invitations, `convene calendar import`.
//! - [`phrases`] — "comments by 3 May 2023" → a proposed deadline; "next meeting on 12 May in
//!   Brussels" → a proposed meeting, in person, in Brussels.
//! - [`agenda`] — a meeting's programme: numbered points marked decision / information /
//!   discussion, with their documents.
//!
//! The stateful parts live beside these: `store` (revisions, firings, subscriptions, members'
//! zones, personal reminders, snoozes), `changes` (a meeting moved, cancelled or elsewhere:
//! who is told, and how), `invite` (agendas mailed to the members), `scheduler` (the worker),
//! `commands` (chat), `detect` (proposals from mail), `http` (feeds) and `service` (the
//! handles, and what is wired in from other domains).

pub mod agenda;
pub mod answers;
pub mod cadence;
pub mod datespec;
pub mod file;
pub mod humanize;
pub mod ics;
pub mod ids;
pub mod model;
pub mod phrases;
pub mod recurrence;
pub mod reminders;
pub mod schedule;

pub use cadence::Cadence;
pub use datespec::{DEFAULT_TZ, DateSpec};
pub use model::{
    AgendaItem, AgendaKind, Calendar, Call, CallKind, Deadline, Item, ItemKind, ItemRef, Meeting,
    Milestone, Mode, Occurrence,
};
pub use phrases::{Proposal, ProposalKind};
pub use recurrence::{ByDay, End, Freq, Override, Repeat};
pub use reminders::{Due, Offsets, Reminder};
pub use schedule::Schedule;

// Daemon side (database, scheduler, commands, feeds): see each module.
pub mod changes;
pub mod cli;
pub mod commands;
pub mod detect;
pub mod http;
pub mod invite;
pub mod scheduler;
pub mod service;
pub mod store;

pub use service::{Service, Settings, Wiring, check};
