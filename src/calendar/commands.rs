//! Calendar chat commands, and the reactions and thread replies the calendar takes.
//!
//! Members ask (`!next`, `!meetings`, …); answers come from [`super::answers`] with the stored
//! calendar, in the group of the room or the group named as first argument, with times in the
//! asker's own zone beside the calendar's when they set one (`!tz Europe/Lisbon`). Members
//! also manage their reminders ([`people`]): `!tz`, `!subscribe`, `!unsubscribe`,
//! `!remind me <item|next> <offset>`, 🔔 and ⏰ on reminders, and "remind me again in 1 hour"
//! in a reminder's thread.
//!
//! The secretariat edits with `key=value` arguments (see [`parse_kv`] and [`edit`]):
//! `!meeting add id=wg-health-2026-05 group=health start=2026-05-12T10:00 end=2026-05-12T12:00
//! mode=online title="Health online meeting" repeat=weekly days=tu,th until=2026-06-30`,
//! `!meeting cancel ID on=2026-05-12`, `!meeting move ID on=2026-05-12 to=2026-05-13T14:00`.
//! Values with spaces are quoted ("…" or “…”); several groups are comma-separated; dates are
//! `2026-05-12T10:00` (calendar time zone, or `…[Europe/Lisbon]`), `2026-05-12` or `2026-05`.
//! Every change goes through [`changes::save`](super::changes::save), which tells people.

mod edit;
pub mod people;

use chrono::{Datelike as _, Utc};

use super::humanize::Zones;
use super::service::Service;
use super::{answers, cadence, scheduler, store};
use crate::chat::{Invocation, Reply};
use crate::outbox::{Key, Target};

/// (name, arguments, what it does, secretariat only)
pub const HELP: &[(&str, &str, &str, bool)] = &[
    (
        "next",
        "[group]",
        "the group's next meeting and deadline",
        false,
    ),
    ("meetings", "[group] [year]", "the year's meetings", false),
    (
        "agenda",
        "<meeting id | date | next>",
        "a meeting's agenda",
        false,
    ),
    ("deadlines", "[group]", "upcoming deadlines", false),
    (
        "calls",
        "",
        "open and upcoming calls, with days left",
        false,
    ),
    ("timeline", "[year]", "the working groups' timeline", false),
    ("apply", "", "how to apply to the open calls", false),
    ("ics", "", "the calendar link to subscribe to", false),
    (
        "cadence",
        "[year]",
        "meetings per group against the cadence rule",
        false,
    ),
    (
        "tz",
        "[Europe/Lisbon | off]",
        "show times in your own time zone too",
        false,
    ),
    (
        "subscribe",
        "[group]",
        "get the group's reminders by direct message (or react 🔔 on one)",
        false,
    ),
    (
        "unsubscribe",
        "[group]",
        "stop the reminders by direct message (all groups when none is named)",
        false,
    ),
    (
        "remind",
        "me <meeting id | next> <1h | 30m | 1d>",
        "a reminder of your own, by direct message",
        false,
    ),
    (
        "meeting",
        "add|edit|move|cancel|restore|agenda|send id=… [on=2026-05-12] group=a,b title=\"…\" start=2026-05-12T10:00 end=… mode=online|physical location=\"…\" link=… minutes=… repeat=daily|weekly|monthly days=tu,th interval=2 until=2026-06-30 count=10 to=…",
        "add or change a meeting or one date of a series (on=…); move takes to=…; agenda takes one point a line; send mails the agenda to the members",
        true,
    ),
    (
        "deadline",
        "add title=\"…\" due=2026-05-12 group=… id=… repeat=… until=…",
        "add a deadline",
        true,
    ),
    (
        "call",
        "add title=\"…\" opens=2026-05-01 closes=2026-06-30 kind=members|partnership group=… link=… id=…",
        "add a call",
        true,
    ),
];

pub fn handles(name: &str) -> bool {
    HELP.iter().any(|h| h.0 == name)
}

pub async fn execute(
    ctx: &Service,
    inv: &Invocation<'_>,
    name: &str,
    args: &[&str],
) -> anyhow::Result<Reply> {
    let tz = ctx.s.tz;
    let now = Utc::now();
    let snap = store::load(&ctx.db).await?;
    let cal = &snap.cal;
    let z = Zones::new(tz, store::member_tz(&ctx.db, inv.sender).await?);
    // A first argument naming a group overrides the room's group.
    let (group, rest): (Option<&str>, &[&str]) = match args.first() {
        Some(a) if ctx.s.groups.get(a).is_some() => (Some(a), &args[1..]),
        _ => (inv.group, args),
    };
    let year = rest.iter().find_map(|a| a.parse::<i32>().ok());
    let this_year = now.with_timezone(&tz).year();
    let text = match name {
        "next" => answers::next(cal, group, now, z),
        "meetings" => answers::meetings(cal, group, year.unwrap_or(this_year), now, z),
        "agenda" if rest.is_empty() => "Which meeting? `!agenda <id | date | next>`".into(),
        "agenda" => answers::agenda(cal, group, &rest.join(" "), now, z),
        "deadlines" => answers::deadlines(cal, group, now, z),
        "calls" => answers::calls(cal, now, z),
        "timeline" => answers::timeline(cal, year),
        "apply" => answers::apply(cal, now, &ctx.s.mailbox_address, z),
        "ics" => ics_link(ctx, group),
        "cadence" => {
            let year = year.unwrap_or(this_year);
            let slugs: Vec<&str> = ctx.s.groups.slugs().collect();
            let rule = slugs
                .first()
                .map_or_else(Default::default, |s| scheduler::rule_of(&ctx.s, s));
            cadence::render_table(cal, &slugs, year, &rule)
        }
        "tz" => people::tz(ctx, inv.sender, args, now).await?,
        "subscribe" | "unsubscribe" => {
            people::subscription(ctx, inv, name == "subscribe", args).await?
        }
        "remind" => people::remind(ctx, inv, cal, args, now, z).await?,
        "meeting" | "deadline" | "call" => {
            match edit::edit(ctx, inv, name, raw_args(inv.text)).await {
                Ok(t) => t,
                Err(e) => format!("⚠️ {e}"),
            }
        }
        _ => anyhow::bail!("`{name}` is not a calendar command"),
    };
    Ok(Reply::text(text))
}

/// A reaction on one of convene's events whose key says it is the calendar's: ✅ on a
/// proposal card (the caller checked the sender is secretariat), 🔔 on a reminder (anyone:
/// subscribes or ends the subscription), ⏰ on a reminder (anyone: it comes back to them in
/// an hour, once). `reaction_event` is the reaction's own event id. Returns true when the key
/// was the calendar's.
pub async fn on_reaction(
    ctx: &Service,
    sender: &str,
    is_secretariat: bool,
    room_id: &str,
    target: &Key,
    key: &str,
    reaction_event: &str,
) -> anyhow::Result<bool> {
    let key = key.trim_end_matches('\u{fe0f}');
    match target {
        Key::Reminder { key: reminder, to } => {
            if key.starts_with('🔔') {
                match to {
                    Target::Group(slug) => {
                        super::detect::toggle_bell(ctx, sender, slug, reaction_event).await?
                    }
                    Target::Dm(user) if user == sender => {
                        people::bell_in_dm(ctx, sender, reminder, reaction_event).await?
                    }
                    Target::Dm(_) => {}
                }
            } else if key.starts_with('⏰') {
                people::snooze(ctx, sender, reminder, people::DEFAULT_SNOOZE).await?;
            }
            Ok(true)
        }
        Key::Snoozed { .. } => Ok(true),
        Key::Proposal(id) => {
            if key == "✅" && is_secretariat {
                super::detect::accept(ctx, room_id, *id).await?;
                let target = format!("proposal #{id}");
                crate::audit::record(
                    &ctx.db.pool,
                    sender,
                    "calendar.proposal.accept",
                    &target,
                    None,
                )
                .await?;
            }
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// A message in the thread of (or in reply to) one of convene's events, which was not a
/// command: "remind me again in 1 hour" to a reminder snoozes it for the sender. The answer,
/// if it was the calendar's; `None` lets the caller bridge the message as usual.
pub async fn on_thread_reply(
    ctx: &Service,
    sender: &str,
    target: &Key,
    text: &str,
) -> anyhow::Result<Option<Reply>> {
    let Key::Reminder { key, .. } = target else {
        return Ok(None);
    };
    let Some(after) = people::snooze_request(text) else {
        return Ok(None);
    };
    let answer = people::snooze(ctx, sender, key, after).await?;
    Ok(Some(Reply::text(answer)))
}

fn ics_link(ctx: &Service, group: Option<&str>) -> String {
    let Some(base) = ctx.s.feed_base.clone() else {
        return "No calendar feed is published (no `http.listen`).".into();
    };
    let mut out = format!("All groups: {base}/calendar/all.ics");
    if let Some(g) = group {
        out = format!("This group: {base}/calendar/{g}.ics\n{out}");
    }
    out.push_str("\nSubscribe to it from Outlook, Thunderbird or your phone's calendar.");
    out
}

/// The command text after `!name`, quotes and lines intact.
fn raw_args(text: &str) -> &str {
    let t = text.trim_start();
    t.split_once(char::is_whitespace)
        .map_or("", |(_, rest)| rest)
        .trim()
}

/// Reads `word key=value key="two words" …` into (key, value) pairs; bare words get an empty
/// key.
pub fn parse_kv(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || c == '=' {
                break;
            }
            word.push(c);
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            out.push((String::new(), word));
            continue;
        }
        chars.next();
        let mut value = String::new();
        let close = match chars.peek() {
            Some('"') => Some('"'),
            Some('“') => Some('”'),
            Some('\'') => Some('\''),
            _ => None,
        };
        if let Some(close) = close {
            chars.next();
            loop {
                match chars.next() {
                    Some(c) if c == close => break,
                    Some(c) => value.push(c),
                    None => return Err(format!("`{word}=`: the quote is not closed")),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((word.to_lowercase(), value));
    }
}

#[cfg(test)]
mod tests;
