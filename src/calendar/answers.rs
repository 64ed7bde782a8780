//! Answers to members' questions (`!next`, `!meetings`, `!agenda`, `!deadlines`, `!calls`,
//! `!timeline`, `!apply`): pure renderers from the calendar to short markdown.
//!
//! Each takes `now` and the reader's zone and dates things in the reader's terms
//! ([`humanize`]). `group` is a slug already resolved by the command layer; `None` means all
//! groups, and an item of all groups concerns every group. Upcoming means not yet
//! [past](DateSpec::is_past): a meeting on today's date is still "next" until it starts, a
//! month-only one until the month is over.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::datespec::DateSpec;
use super::humanize::{self, group_label};
use super::model::{Calendar, Call, Item, Meeting, Mode, concerns};

/// `!next [group]`: the next meeting and the next deadline.
pub fn next(cal: &Calendar, group: Option<&str>, now: DateTime<Utc>, tz: Tz) -> String {
    let mut out = match upcoming_meetings(cal, group, now, tz).first() {
        Some(m) => format!(
            "**Next meeting**{}: {} — {} · {}",
            for_group(group),
            title(m),
            meeting_when(m, now, tz),
            place(m)
        ),
        None => format!("No meeting planned{}.", for_group(group)),
    };
    let mut deadlines: Vec<_> = cal
        .deadlines
        .iter()
        .filter(|d| concerns(&d.groups, group) && !d.due.is_past(now, tz))
        .collect();
    deadlines.sort_by_key(|d| d.due.sort_key());
    if let Some(d) = deadlines.first() {
        write!(
            out,
            "\n**Next deadline**: {} — {}",
            d.title,
            humanize::when(&d.due, now, tz)
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
    tz: Tz,
) -> String {
    let today = today(now, tz);
    let mut list: Vec<&Meeting> = cal
        .meetings
        .iter()
        .filter(|m| concerns(&m.groups, group) && m.start.year() == year)
        .collect();
    if list.is_empty() {
        return format!("No meetings in {year}{}.", for_group(group));
    }
    list.sort_by_key(|m| m.start.sort_key());
    let mut out = format!("**Meetings {year}**{}", for_group(group));
    for m in list {
        let date = humanize::span_plain(&m.start, m.end.as_ref(), today, tz);
        write!(out, "\n- {date} · {} · {}", place(m), title(m)).unwrap();
        if let Some(link) = &m.minutes_link {
            write!(out, " · [minutes]({link})").unwrap();
        }
    }
    out
}

/// `!agenda <meeting>`: by id, by date (`2024-04-24`, or `2025-06` for a month), or `next`.
pub fn agenda(
    cal: &Calendar,
    group: Option<&str>,
    query: &str,
    now: DateTime<Utc>,
    tz: Tz,
) -> String {
    let query = query.trim();
    let found = if query.eq_ignore_ascii_case("next") {
        upcoming_meetings(cal, group, now, tz).into_iter().next()
    } else if let Some(m) = cal.meeting(query) {
        Some(m)
    } else {
        let day = NaiveDate::parse_from_str(query, "%Y-%m-%d").ok();
        let month = DateSpec::parse(query, tz)
            .ok()
            .filter(DateSpec::is_month_only);
        let mut matching: Vec<&Meeting> = cal
            .meetings
            .iter()
            .filter(|m| concerns(&m.groups, group))
            .filter(|m| {
                Some(m.start.first_day()) == day
                    || (month.is_some() && month.as_ref() == Some(&m.start))
            })
            .collect();
        matching.sort_by_key(|m| m.cancelled);
        matching.into_iter().next()
    };
    let Some(m) = found else {
        return format!("No meeting matches “{query}”. `!meetings` lists them.");
    };
    let mut out = format!(
        "**{}** — {}\n{}",
        title(m),
        meeting_when(m, now, tz),
        capitalise(&place(m))
    );
    if m.agenda.is_empty() {
        out.push_str("\nThe agenda is not out yet.");
    }
    for a in &m.agenda {
        write!(out, "\n{}. {}", a.n, a.title).unwrap();
        if let Some(kind) = a.kind {
            write!(out, " — *{}*", kind.label()).unwrap();
        }
    }
    if let Some(link) = &m.minutes_link {
        write!(out, "\nMinutes: {link}").unwrap();
    }
    out
}

/// `!deadlines [group]`: deadlines not yet past, soonest first.
pub fn deadlines(cal: &Calendar, group: Option<&str>, now: DateTime<Utc>, tz: Tz) -> String {
    let mut list: Vec<_> = cal
        .deadlines
        .iter()
        .filter(|d| concerns(&d.groups, group) && !d.due.is_past(now, tz))
        .collect();
    if list.is_empty() {
        return format!("No upcoming deadlines{}.", for_group(group));
    }
    list.sort_by_key(|d| d.due.sort_key());
    let mut out = format!("**Deadlines**{}", for_group(group));
    for d in list {
        write!(out, "\n- {} — {}", humanize::when(&d.due, now, tz), d.title).unwrap();
    }
    out
}

/// `!calls`: open calls with the days left, then the calls still to open.
pub fn calls(cal: &Calendar, now: DateTime<Utc>, tz: Tz) -> String {
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
                c.title,
                humanize::groups_suffix(&c.groups),
                closing(c, now, tz)
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
                c.title,
                humanize::groups_suffix(&c.groups),
                humanize::when(&c.opens, now, tz)
            )
            .unwrap();
        }
    }
    out
}

/// `!timeline [year]`: every item of the year (or all years), in date order.
pub fn timeline(cal: &Calendar, year: Option<i32>) -> String {
    let in_year = |item: &Item| match (item, year) {
        (_, None) => true,
        (Item::Call(c), Some(y)) => c.opens.year() <= y && y <= c.closes.year(),
        (other, Some(y)) => other.when().year() == y,
    };
    let mut items: Vec<Item> = cal.items().into_iter().filter(in_year).collect();
    if items.is_empty() {
        return format!(
            "Nothing on the timeline for {}.",
            year.map_or("any year".to_owned(), |y| y.to_string())
        );
    }
    items.sort_by_key(|i| i.when().sort_key());
    let mut out = match year {
        Some(y) => format!("**Timeline {y}**"),
        None => "**Timeline**".to_owned(),
    };
    for item in &items {
        let line = match item {
            Item::Call(c) => format!(
                "{} – {} · {} open",
                humanize::short(&c.opens),
                humanize::short(&c.closes),
                c.title
            ),
            Item::Deadline(d) => format!("{} · Deadline: {}", humanize::short(&d.due), d.title),
            Item::Meeting(m) => {
                let mode = match (m.mode, &m.location) {
                    (Mode::Online, _) => "online",
                    (Mode::Physical, Some(location)) => location.as_str(),
                    (Mode::Physical, None) => "in person",
                };
                format!("{} · {} ({mode})", humanize::short(&m.start), title(m))
            }
            Item::Milestone(m) => format!("{} · {}", humanize::short(&m.when), m.title),
        };
        write!(out, "\n- {line}{}", humanize::groups_suffix(item.groups())).unwrap();
    }
    out
}

/// `!apply`: the open calls and what to send to the mailbox.
pub fn apply(cal: &Calendar, now: DateTime<Utc>, mailbox: &str, tz: Tz) -> String {
    let (open, soon) = open_and_upcoming(cal, now, tz);
    let mut out = String::new();
    if open.is_empty() {
        out.push_str("No call is open right now.");
        if let Some(c) = soon.first() {
            write!(
                out,
                " Next: {} — opens {}.",
                c.title,
                humanize::when(&c.opens, now, tz)
            )
            .unwrap();
        }
        write!(out, "\nQuestions: {mailbox}").unwrap();
        return out;
    }
    out.push_str("**How to apply**\nOpen now:");
    for c in &open {
        write!(out, "\n- {} — {}", c.title, closing(c, now, tz)).unwrap();
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
fn closing(c: &Call, now: DateTime<Utc>, tz: Tz) -> String {
    let today = today(now, tz);
    if c.closes.is_month_only() {
        return format!("closes {}", humanize::month(c.closes.first_day()));
    }
    let date = humanize::span_plain(&c.closes, None, today, tz);
    match (c.closes.first_day() - today).num_days() {
        0 => format!("closes today, {date}"),
        1 => format!("closes {date} (1 day left)"),
        n => format!("closes {date} ({n} days left)"),
    }
}

fn upcoming_meetings<'a>(
    cal: &'a Calendar,
    group: Option<&str>,
    now: DateTime<Utc>,
    tz: Tz,
) -> Vec<&'a Meeting> {
    let mut list: Vec<&Meeting> = cal
        .meetings
        .iter()
        .filter(|m| !m.cancelled && concerns(&m.groups, group) && !m.start.is_past(now, tz))
        .collect();
    list.sort_by_key(|m| m.start.sort_key());
    list
}

fn meeting_when(m: &Meeting, now: DateTime<Utc>, tz: Tz) -> String {
    let when = humanize::span(&m.start, m.end.as_ref(), now, tz);
    let pending = if m.start.is_month_only() {
        " (date to be confirmed)"
    } else {
        ""
    };
    format!("{when}{pending}")
}

/// "online — [join](…)", "in person, European Commission, Brussels".
fn place(m: &Meeting) -> String {
    match (m.mode, &m.location, &m.join_link) {
        (Mode::Online, _, Some(link)) => format!("online — [join]({link})"),
        (Mode::Online, ..) => "online".to_owned(),
        (Mode::Physical, Some(location), _) => format!("in person, {location}"),
        (Mode::Physical, None, _) => "in person".to_owned(),
    }
}

fn title(m: &Meeting) -> String {
    if m.cancelled {
        format!("~~{}~~ (cancelled)", m.title)
    } else {
        m.title.clone()
    }
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
