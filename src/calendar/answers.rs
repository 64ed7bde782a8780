//! Answers to members' questions (`!next`, `!meetings`, `!agenda`, `!deadlines`, `!calls`,
//! `!timeline`, `!apply`): pure renderers from the calendar to short markdown.
//!
//! Each takes `now` and the reader's zone and dates things in the reader's terms
//! ([`humanize`]). `group` is a slug already resolved by the command layer; `None` means all
//! groups, and an item of all groups concerns every group. Upcoming means not yet
//! [past](DateSpec::is_past): a meeting on today's date is still "next" until it starts, a
//! month-only one until the month is over.
//!
//! Series answer by occurrence: `!next` and `!agenda next` give the next date of a series,
//! `!meetings` lists each occurrence of the year (cancelled ones struck through, moved ones
//! saying from when), `!deadlines` the next date of each recurring deadline with its rule,
//! `!agenda` finds an occurrence by date or by occurrence id (`<id>@2026-05-19`), and
//! `!timeline` shows a series once, at its first date in the year, with its rule.
//!
//! Titles and places are escaped ([`crate::markup`]): they may come from a mail (an accepted
//! proposal) or an imported calendar.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use super::datespec::DateSpec;
use super::humanize::{self, Zones, group_label};
use super::model::{Calendar, Call, Item, ItemKind, ItemRef, Meeting, Mode, Occurrence, concerns};

/// `!next [group]`: the next meeting and the next deadline.
pub fn next(
    cal: &Calendar,
    group: Option<&str>,
    now: DateTime<Utc>,
    tz: impl Into<Zones>,
) -> String {
    let z: Zones = tz.into();
    let tz = z.tz;
    let meetings = upcoming(cal, ItemKind::Meeting, group, now, tz);
    let mut out = match meetings.iter().find_map(|o| Some((o, o.meeting()?))) {
        Some((o, m)) => {
            format!(
                "**Next meeting**{}: {} — {} · {}{}",
                for_group(group),
                title(m),
                meeting_when(m, now, z),
                place(m),
                rule_suffix(cal, o)
            )
        }
        None => format!("No meeting planned{}.", for_group(group)),
    };
    if let Some(o) = upcoming(cal, ItemKind::Deadline, group, now, tz).first() {
        write!(
            out,
            "\n**Next deadline**: {} — {}{}",
            esc(o.item.title()),
            humanize::when_in(o.start(), now, z),
            rule_suffix(cal, o)
        )
        .unwrap();
    }
    out
}

/// `!meetings [group] [year]`: the year's meetings, cancelled ones struck through.
pub fn meetings(
    cal: &Calendar,
    group: Option<&str>,
    year: i32,
    now: DateTime<Utc>,
    tz: impl Into<Zones>,
) -> String {
    let z: Zones = tz.into();
    let tz = z.tz;
    let today = today(now, tz);
    let list: Vec<Occurrence> = in_year(cal, year, tz)
        .filter(|o| o.meeting().is_some_and(|m| concerns(&m.groups, group)))
        .collect();
    if list.is_empty() {
        return format!("No meetings in {year}{}.", for_group(group));
    }
    let mut out = format!("**Meetings {year}**{}", for_group(group));
    for (o, m) in list.iter().filter_map(|o| Some((o, o.meeting()?))) {
        let date = humanize::span_plain_in(&m.start, m.end.as_ref(), today, z);
        write!(out, "\n- {date} · {} · {}", place(m), title(m)).unwrap();
        if let (true, Some(original)) = (o.moved, o.original) {
            write!(out, " · moved from {}", humanize::day(original, today)).unwrap();
        }
        if let Some(link) = &m.minutes_link {
            write!(out, " · [minutes]({link})").unwrap();
        }
    }
    out
}

/// The occurrences starting in `year` (by their local date, as a one-off item's year is
/// read), in order; cancelled ones included.
fn in_year(cal: &Calendar, year: i32, tz: Tz) -> impl Iterator<Item = Occurrence> + '_ {
    let bound = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .map(|d| DateSpec::Day(d).start_utc(tz))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    // A day of slack either side for items in other zones than the reader's.
    let (from, to) = (
        bound(year) - TimeDelta::days(1),
        bound(year + 1) + TimeDelta::days(1),
    );
    cal.occurrences_between(from, to, tz)
        .filter(move |o| o.start().year() == year)
}

/// For each item of `kind` concerning `group`, its next occurrence not past nor cancelled,
/// soonest first.
fn upcoming(
    cal: &Calendar,
    kind: ItemKind,
    group: Option<&str>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<Occurrence> {
    cal.next_of_each(now, tz, |item| item.kind() == kind && item.concerns(group))
}

/// " · every 2 weeks on Tuesday" for an occurrence of a series; nothing for a one-off item.
fn rule_suffix(cal: &Calendar, o: &Occurrence) -> String {
    match cal.get(&o.item_ref()) {
        Some(item) => match item.repeat() {
            Some(rule) => format!(" · {}", humanize::repeat(rule, item.when().first_day())),
            None => String::new(),
        },
        None => String::new(),
    }
}

/// `!agenda <meeting>`: by id, by date (`2024-04-24`, or `2025-06` for a month), or `next`.
pub fn agenda(
    cal: &Calendar,
    group: Option<&str>,
    query: &str,
    now: DateTime<Utc>,
    tz: impl Into<Zones>,
) -> String {
    let z: Zones = tz.into();
    let tz = z.tz;
    let query = query.trim();
    let by_ref = |id: &str| {
        cal.occurrence(&ItemRef {
            kind: ItemKind::Meeting,
            id: id.to_owned(),
        })
    };
    let found = if query.eq_ignore_ascii_case("next") {
        upcoming(cal, ItemKind::Meeting, group, now, tz)
            .into_iter()
            .next()
    } else if let Some(m) = cal.meeting(query) {
        // A series by its id: its next date, else its first.
        match m.repeat {
            None => by_ref(query),
            Some(_) => cal
                .next_of_each(now, tz, |i| i.kind() == ItemKind::Meeting && i.id() == m.id)
                .into_iter()
                .next()
                .or_else(|| m.occurrences_from(DateTime::<Utc>::MIN_UTC, tz).next()),
        }
    } else if let Some(o) = by_ref(query) {
        Some(o)
    } else {
        let day = NaiveDate::parse_from_str(query, "%Y-%m-%d").ok();
        let month = DateSpec::parse(query, tz)
            .ok()
            .filter(DateSpec::is_month_only);
        let mut matching: Vec<Occurrence> = match (day, &month) {
            (Some(day), _) => {
                let from = DateSpec::Day(day).start_utc(tz) - TimeDelta::days(1);
                cal.occurrences_between(from, from + TimeDelta::days(3), tz)
                    .filter(|o| o.start().first_day() == day)
                    .collect()
            }
            (None, Some(month)) => cal
                .meetings
                .iter()
                .filter(|m| m.repeat.is_none() && &m.start == month)
                .filter_map(|m| by_ref(&m.id))
                .collect(),
            (None, None) => Vec::new(),
        };
        matching.retain(|o| o.meeting().is_some_and(|m| concerns(&m.groups, group)));
        // A month-only meeting "matches" its 1st; a meeting really on that day wins.
        matching.sort_by_key(|o| (o.cancelled, o.start().is_month_only()));
        matching.into_iter().next()
    };
    let Some(m) = found.as_ref().and_then(Occurrence::meeting) else {
        return format!("No meeting matches “{query}”. `!meetings` lists them.");
    };
    let mut out = format!(
        "**{}** — {}\n{}",
        title(m),
        meeting_when(m, now, z),
        capitalise(&place(m))
    );
    if m.agenda.is_empty() {
        out.push_str("\nThe agenda is not out yet.");
    }
    if !m.agenda.is_empty() {
        out.push('\n');
        out.push_str(&super::agenda::markdown(&m.agenda));
    }
    if let Some(link) = &m.minutes_link {
        write!(out, "\nMinutes: {link}").unwrap();
    }
    out
}

/// `!deadlines [group]`: deadlines not yet past, soonest first.
/// A recurring deadline shows its next date and its rule.
pub fn deadlines(
    cal: &Calendar,
    group: Option<&str>,
    now: DateTime<Utc>,
    tz: impl Into<Zones>,
) -> String {
    let z: Zones = tz.into();
    let tz = z.tz;
    let list = upcoming(cal, ItemKind::Deadline, group, now, tz);
    if list.is_empty() {
        return format!("No upcoming deadlines{}.", for_group(group));
    }
    let mut out = format!("**Deadlines**{}", for_group(group));
    for o in &list {
        write!(
            out,
            "\n- {} — {}{}",
            humanize::when_in(o.start(), now, z),
            esc(o.item.title()),
            rule_suffix(cal, o)
        )
        .unwrap();
    }
    out
}

/// `!calls`: open calls with the days left, then the calls still to open.
pub fn calls(cal: &Calendar, now: DateTime<Utc>, tz: impl Into<Zones>) -> String {
    let z: Zones = tz.into();
    let tz = z.tz;
    let (open, soon) = open_and_upcoming(cal, now, tz);
    if open.is_empty() && soon.is_empty() {
        return "No call is open or announced.".to_owned();
    }
    let mut out = String::new();
    if !open.is_empty() {
        out.push_str("**Open calls**");
        for c in &open {
            write!(
                out,
                "\n- {}{} — {}",
                esc(&c.title),
                humanize::groups_suffix(&c.groups),
                closing(c, now, z)
            )
            .unwrap();
        }
    }
    if !soon.is_empty() {
        out.push_str(if out.is_empty() {
            "**Upcoming calls**"
        } else {
            "\n**Upcoming calls**"
        });
        for c in &soon {
            write!(
                out,
                "\n- {}{} — opens {}",
                esc(&c.title),
                humanize::groups_suffix(&c.groups),
                humanize::when_in(&c.opens, now, z)
            )
            .unwrap();
        }
    }
    out
}

/// `!timeline [year]`: every item of the year (or all years), in date order; a series once, at
/// its first date in the year (not cancelled), with its rule.
pub fn timeline(cal: &Calendar, year: Option<i32>) -> String {
    let in_year = |item: &Item| match (item, year) {
        (_, None) => true,
        (Item::Call(c), Some(y)) => c.opens.year() <= y && y <= c.closes.year(),
        (other, Some(y)) => other.when().year() == y,
    };
    // Each entry: the item as shown (a series' first occurrence in the year) and, for a
    // series, its rule in words.
    let mut entries: Vec<(Item, String)> = cal
        .items()
        .into_iter()
        .filter_map(|item| {
            let Some(rule) = item.repeat() else {
                return in_year(&item).then(|| (item, String::new()));
            };
            let words = format!(" · {}", humanize::repeat(rule, item.when().first_day()));
            let shown = match year {
                None => item.clone(),
                Some(y) => first_in_year(&item, y)?,
            };
            Some((shown, words))
        })
        .collect();
    if entries.is_empty() {
        return format!(
            "Nothing on the timeline for {}.",
            year.map_or("any year".to_owned(), |y| y.to_string())
        );
    }
    entries.sort_by_key(|(i, _)| i.when().sort_key());
    let mut out = match year {
        Some(y) => format!("**Timeline {y}**"),
        None => "**Timeline**".to_owned(),
    };
    for (item, rule) in &entries {
        let line = match item {
            Item::Call(c) => format!(
                "{} – {} · {} open",
                humanize::short(&c.opens),
                humanize::short(&c.closes),
                esc(&c.title)
            ),
            Item::Deadline(d) => {
                format!("{} · Deadline: {}", humanize::short(&d.due), esc(&d.title))
            }
            Item::Meeting(m) => {
                let mode = match (m.mode, &m.location) {
                    (Mode::Online, _) => "online".to_owned(),
                    (Mode::Physical, Some(location)) => esc(location),
                    (Mode::Physical, None) => "in person".to_owned(),
                };
                format!("{} · {} ({mode})", humanize::short(&m.start), title(m))
            }
            Item::Milestone(m) => format!("{} · {}", humanize::short(&m.when), esc(&m.title)),
        };
        write!(
            out,
            "\n- {line}{rule}{}",
            humanize::groups_suffix(item.groups())
        )
        .unwrap();
    }
    out
}

/// A series' first occurrence (not cancelled) whose local date falls in `year`, as its item.
fn first_in_year(series: &Item, year: i32) -> Option<Item> {
    let from = NaiveDate::from_ymd_opt(year, 1, 1)?
        .and_hms_opt(0, 0, 0)?
        .and_utc();
    // Local dates are what counts; a day of slack covers any zone's offset from UTC.
    let o = series
        .occurrences_from(from - TimeDelta::days(1), chrono_tz::UTC)
        .filter(|o| !o.cancelled)
        .find(|o| o.start().year() >= year)?;
    (o.start().year() == year).then_some(o.item)
}

/// `!apply`: the open calls and what to send to the mailbox.
pub fn apply(cal: &Calendar, now: DateTime<Utc>, mailbox: &str, tz: impl Into<Zones>) -> String {
    let z: Zones = tz.into();
    let tz = z.tz;
    let (open, soon) = open_and_upcoming(cal, now, tz);
    let mut out = String::new();
    if open.is_empty() {
        out.push_str("No call is open right now.");
        if let Some(c) = soon.first() {
            write!(
                out,
                " Next: {} — opens {}.",
                esc(&c.title),
                humanize::when_in(&c.opens, now, z)
            )
            .unwrap();
        }
        write!(out, "\nQuestions: {mailbox}").unwrap();
        return out;
    }
    out.push_str("**How to apply**\nOpen now:");
    for c in &open {
        write!(out, "\n- {} — {}", esc(&c.title), closing(c, now, z)).unwrap();
    }
    write!(
        out,
        "\n\nEmail {mailbox} with:\n\
         - your name, email and organisation\n\
         - the kind of stakeholder you represent, your country and region\n\
         - the group(s) or partnership you apply for, and the role you seek (core member, leader or external expert)\n\
         - a short motivation\n\
         - attachments: your CV; for a partnership, a letter and the declaration of commitment\n\
         Write in your own language if you prefer."
    )
    .unwrap();
    out
}

fn open_and_upcoming(cal: &Calendar, now: DateTime<Utc>, tz: Tz) -> (Vec<&Call>, Vec<&Call>) {
    let mut open: Vec<&Call> = cal
        .calls
        .iter()
        .filter(|c| c.opens.start_utc(tz) <= now && !c.closes.is_past(now, tz))
        .collect();
    let mut soon: Vec<&Call> = cal
        .calls
        .iter()
        .filter(|c| c.opens.start_utc(tz) > now)
        .collect();
    open.sort_by_key(|c| c.closes.sort_key());
    soon.sort_by_key(|c| c.opens.sort_key());
    (open, soon)
}

/// "closes Fri 15 Sep (12 days left)", "closes today", "closes March 2025".
fn closing(c: &Call, now: DateTime<Utc>, z: Zones) -> String {
    let today = today(now, z.tz);
    if c.closes.is_month_only() {
        return format!("closes {}", humanize::month(c.closes.first_day()));
    }
    let date = humanize::span_plain_in(&c.closes, None, today, z);
    match (c.closes.first_day() - today).num_days() {
        0 => format!("closes today, {date}"),
        1 => format!("closes {date} (1 day left)"),
        n => format!("closes {date} ({n} days left)"),
    }
}

fn meeting_when(m: &Meeting, now: DateTime<Utc>, z: Zones) -> String {
    let when = humanize::span_in(&m.start, m.end.as_ref(), now, z);
    let pending = if m.start.is_month_only() {
        " (date to be confirmed)"
    } else {
        ""
    };
    format!("{when}{pending}")
}

/// "online — [join](…)", "in person, European Commission, Brussels".
fn place(m: &Meeting) -> String {
    // A link that is not a plain http(s) one is not made a link (an imported calendar's).
    let link = m
        .join_link
        .as_deref()
        .filter(|l| super::agenda::is_link(l) && !l.contains(['(', ')']));
    match (m.mode, &m.location, link) {
        (Mode::Online, _, Some(link)) => format!("online — [join]({link})"),
        (Mode::Online, ..) => "online".to_owned(),
        (Mode::Physical, Some(location), _) => format!("in person, {}", esc(location)),
        (Mode::Physical, None, _) => "in person".to_owned(),
    }
}

fn title(m: &Meeting) -> String {
    if m.cancelled {
        format!("~~{}~~ (cancelled)", esc(&m.title))
    } else {
        esc(&m.title)
    }
}

/// A title as text: it may come from a mail (a proposal) or an imported calendar.
fn esc(title: &str) -> String {
    crate::markup::escape_markdown_line(title)
}

fn for_group(group: Option<&str>) -> String {
    group
        .map(|g| format!(" ({})", group_label(g)))
        .unwrap_or_default()
}

fn today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
