//! Reminders people control, and the time zone they read in.
//!
//! - `!tz Europe/Lisbon` stores the member's zone: answers and direct messages then show
//!   their time beside the calendar's ("10:00 Brussels time (09:00 Lisbon time)"); `!tz`
//!   says which is set, `!tz off` forgets it.
//! - `!subscribe [group]` / `!unsubscribe [group]`: reminders of a group by direct message
//!   (the room's group when none is named; `!unsubscribe` in a room of no group ends every
//!   subscription). 🔔 on a reminder does the same, as a toggle ([`bell_in_dm`] for a reminder
//!   received by direct message).
//! - `!remind me <meeting | deadline | next> <offset>`: one reminder of one occurrence, by
//!   direct message, `offset` before it (a series by its id: its next date); it follows the
//!   occurrence if it moves.
//! - Snoozing a reminder: ⏰ on it ([`DEFAULT_SNOOZE`]: an hour) or, in its thread, "remind
//!   me again in 30 minutes" ([`snooze_request`]): it comes back to that person once, by
//!   direct message, as the occurrence then reads.

use std::sync::LazyLock;

use chrono::{DateTime, TimeDelta, Utc};
use regex::Regex;

use crate::calendar::humanize::{self, Zones};
use crate::calendar::model::{Calendar, ItemKind, ItemRef, Occurrence};
use crate::calendar::service::Service;
use crate::calendar::{reminders, store};
use crate::chat::Invocation;
use crate::markup;

/// What ⏰ on a reminder means: "remind me again in 1 hour".
pub const DEFAULT_SNOOZE: TimeDelta = TimeDelta::hours(1);
/// The longest snooze and the longest personal offset.
const MAX_SNOOZE: TimeDelta = TimeDelta::days(7);
const MAX_OFFSET: TimeDelta = TimeDelta::days(60);

/// `!tz [zone | off]`.
pub async fn tz(
    ctx: &Service,
    user: &str,
    args: &[&str],
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let cal_tz = ctx.s.tz;
    let example = |z: Zones| {
        let at = now + TimeDelta::days(1);
        let local = at.with_timezone(&cal_tz).date_naive();
        let spec = crate::calendar::DateSpec::at(
            local,
            chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap_or_default(),
            cal_tz,
        );
        humanize::when_in(&spec, now, z)
    };
    match args.first().copied() {
        None => Ok(match store::member_tz(&ctx.db, user).await? {
            Some(z) => format!(
                "Your time zone: {} ({}). Times show as: {}. `!tz off` to stop.",
                z.name(),
                humanize::tz_label(z),
                example(Zones::new(cal_tz, Some(z)))
            ),
            None => format!(
                "Times show in {} only. `!tz Europe/Lisbon` adds yours beside it.",
                humanize::tz_label(cal_tz)
            ),
        }),
        Some("off" | "reset" | "none") => {
            store::set_member_tz(&ctx.db, user, None).await?;
            Ok(format!(
                "Done: times show in {} only.",
                humanize::tz_label(cal_tz)
            ))
        }
        Some(name) => match name.parse::<chrono_tz::Tz>() {
            Ok(z) => {
                store::set_member_tz(&ctx.db, user, Some(z)).await?;
                Ok(format!(
                    "Your time zone is now {}. Times show as: {}.",
                    z.name(),
                    example(Zones::new(cal_tz, Some(z)))
                ))
            }
            Err(_) => Ok(format!(
                "{} is not a time zone name; write it like `Europe/Lisbon` or `America/New_York`.",
                markup::code(name)
            )),
        },
    }
}

/// `!subscribe [group]` and `!unsubscribe [group]`.
pub async fn subscription(
    ctx: &Service,
    inv: &Invocation<'_>,
    on: bool,
    args: &[&str],
) -> anyhow::Result<String> {
    let named = match args.first() {
        Some(a) => match ctx.s.groups.find(a) {
            Some(g) => Some(g.slug.clone()),
            None => return Ok(format!("No group {}.", markup::code(a))),
        },
        None => inv.group.map(str::to_owned),
    };
    let user = inv.sender;
    let label = |slug: &str| {
        ctx.s
            .groups
            .get(slug)
            .map_or_else(|| slug.to_owned(), |g| g.name.clone())
    };
    if on {
        let Some(slug) = named else {
            return Ok(
                "Which group? `!subscribe health` (or react 🔔 on one of its reminders).".into(),
            );
        };
        return Ok(if store::subscribe(&ctx.db, user, &slug).await? {
            format!(
                "🔔 You will get the {} reminders by direct message.",
                label(&slug)
            )
        } else {
            format!(
                "You already get the {} reminders by direct message.",
                label(&slug)
            )
        });
    }
    let slugs = match named {
        Some(slug) => vec![slug],
        None => store::subscriptions_of(&ctx.db, user).await?,
    };
    let mut ended = Vec::new();
    for slug in &slugs {
        if store::unsubscribe(&ctx.db, user, slug).await? {
            ended.push(label(slug));
        }
    }
    Ok(if ended.is_empty() {
        "You get no reminders by direct message (of that group).".into()
    } else {
        format!(
            "🔕 No more {} reminders by direct message.",
            ended.join(", ")
        )
    })
}

/// 🔔 on a reminder `user` got by direct message: ends their subscriptions to its item's
/// groups (a personal reminder or a snooze is no subscription: nothing happens).
pub async fn bell_in_dm(
    ctx: &Service,
    user: &str,
    reminder: &str,
    event: &str,
) -> anyhow::Result<()> {
    let Some(r) = reminders::occurrence_of_key(reminder) else {
        return Ok(());
    };
    let snap = store::load(&ctx.db).await?;
    let Some(occ) = snap.cal.occurrence(&r) else {
        return Ok(());
    };
    for slug in store::subscriptions_of(&ctx.db, user).await? {
        if occ.item.concerns(Some(&slug)) {
            crate::calendar::detect::toggle_bell(ctx, user, &slug, event).await?;
        }
    }
    Ok(())
}

/// `!remind me <meeting | deadline | next> <offset>`.
pub async fn remind(
    ctx: &Service,
    inv: &Invocation<'_>,
    cal: &Calendar,
    args: &[&str],
    now: DateTime<Utc>,
    z: Zones,
) -> anyhow::Result<String> {
    let usage = "Say `!remind me <meeting id | next> <1h | 30m | 1d>`.";
    let (target, offset) = match args {
        [me, target, offset] if me.eq_ignore_ascii_case("me") => (*target, *offset),
        _ => return Ok(usage.into()),
    };
    let Ok(offset) = crate::config::parse_offset(offset) else {
        return Ok(format!(
            "{} is not an offset like `1h`, `30m` or `1d`. {usage}",
            markup::code(offset)
        ));
    };
    if offset <= TimeDelta::zero() || offset > MAX_OFFSET {
        return Ok("Give an offset between a minute and 60 days before it.".into());
    }
    let Some(occ) = find(cal, inv.group, target, now, ctx.s.tz) else {
        return Ok(format!(
            "No meeting or deadline {} to come (`!meetings`, `!deadlines` list them).",
            markup::code(target)
        ));
    };
    let Some(r) = reminders::personal(0, &occ, offset, ctx.s.tz) else {
        return Ok("That one has no date to count back from yet.".into());
    };
    if r.due <= now {
        return Ok(format!(
            "That is already past: {} starts {}.",
            markup::escape_markdown_line(occ.item.title()),
            humanize::when_in(occ.start(), now, z)
        ));
    }
    let stored = ItemRef {
        kind: occ.item.kind(),
        id: occ.id.clone(),
    };
    store::add_personal(&ctx.db, inv.sender, &stored, offset).await?;
    ctx.wake.notify_one();
    let due = crate::calendar::DateSpec::At {
        local: r.due.with_timezone(&ctx.s.tz).naive_local(),
        tz: ctx.s.tz,
    };
    Ok(format!(
        "⏰ I will remind you of **{}** ({}) by direct message, {} — {} before.",
        markup::escape_markdown_line(occ.item.title()),
        humanize::when_in(occ.start(), now, z),
        humanize::when_in(&due, now, z),
        crate::config::format_offset(offset)
    ))
}

/// The occurrence `target` names: `next` (the group's next meeting), a meeting, deadline or
/// call id (a series: its next date), or an occurrence id.
fn find(
    cal: &Calendar,
    group: Option<&str>,
    target: &str,
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Option<Occurrence> {
    if target.eq_ignore_ascii_case("next") {
        return cal
            .next_of_each(now, tz, |i| {
                i.kind() == ItemKind::Meeting && i.concerns(group)
            })
            .into_iter()
            .next();
    }
    for kind in [ItemKind::Meeting, ItemKind::Deadline, ItemKind::Call] {
        let r = ItemRef {
            kind,
            id: target.to_owned(),
        };
        if let Some(item) = cal.get(&r)
            && item.repeat().is_some()
        {
            return cal
                .next_of_each(now, tz, |i| i.kind() == kind && i.id() == item.id())
                .into_iter()
                .next();
        }
        if let Some(o) = cal.occurrence(&r).filter(|o| !o.cancelled) {
            return Some(o);
        }
    }
    None
}

/// Snoozes reminder `key` for `user`: it comes back `after` from now, once, by direct
/// message. Returns the answer to give.
pub async fn snooze(
    ctx: &Service,
    user: &str,
    key: &str,
    after: TimeDelta,
) -> anyhow::Result<String> {
    let item = match reminders::personal_id(key) {
        Some(id) => store::personal(&ctx.db)
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .map(|p| p.item),
        None => reminders::occurrence_of_key(key),
    };
    let Some(item) = item else {
        return Ok("That reminder cannot be snoozed.".into());
    };
    let due = Utc::now() + after;
    let fresh = store::snooze(
        &ctx.db,
        &store::Snooze {
            user: user.to_owned(),
            key: key.to_owned(),
            item,
            due,
        },
    )
    .await?;
    ctx.wake.notify_one();
    let z = Zones::new(ctx.s.tz, store::member_tz(&ctx.db, user).await?);
    let at = crate::calendar::DateSpec::At {
        local: due.with_timezone(&ctx.s.tz).naive_local(),
        tz: ctx.s.tz,
    };
    Ok(if fresh {
        format!(
            "⏰ I will remind you again by direct message, {}.",
            humanize::when_in(&at, Utc::now(), z)
        )
    } else {
        "You already snoozed this reminder: it comes back once.".into()
    })
}

static AGAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:please\s+)?(?:(?:remind\s+me(?:\s+again)?|snooze(?:\s+(?:it|this))?)\s+(?:(?:in|for)\s+)?|in\s+)(an?|one|two|\d{1,3})\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d)\b[\s.!]*(?:please)?[\s.!]*$",
    )
    .expect("snooze pattern")
});

/// "remind me again in 1 hour", "in 30 minutes", "snooze 2h" → how long; `None` for anything
/// else (it is then an ordinary message).
pub fn snooze_request(text: &str) -> Option<TimeDelta> {
    let caps = AGAIN.captures(text.trim())?;
    let n: i64 = match caps[1].to_lowercase().as_str() {
        "a" | "an" | "one" => 1,
        "two" => 2,
        digits => digits.parse().ok()?,
    };
    let unit = caps[2].to_lowercase();
    let after = match unit.chars().next()? {
        'm' => TimeDelta::minutes(n),
        'h' => TimeDelta::hours(n),
        _ => TimeDelta::days(n),
    };
    (after > TimeDelta::zero() && after <= MAX_SNOOZE).then_some(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_snooze_requests_and_nothing_else() {
        let h = TimeDelta::hours;
        assert_eq!(snooze_request("remind me again in 1 hour"), Some(h(1)));
        assert_eq!(snooze_request("Remind me again in an hour."), Some(h(1)));
        assert_eq!(
            snooze_request("in 30 minutes"),
            Some(TimeDelta::minutes(30))
        );
        assert_eq!(snooze_request("remind me in 2h please"), Some(h(2)));
        assert_eq!(snooze_request("snooze 1d"), Some(TimeDelta::days(1)));
        assert_eq!(
            snooze_request("snooze for 10 min"),
            Some(TimeDelta::minutes(10))
        );
        for no in [
            "thanks!",
            "see you in 1 hour",
            "remind me again in 30 days",
            "in 0 minutes",
            "I will be there in 5 minutes, remind me",
        ] {
            assert_eq!(snooze_request(no), None, "{no}");
        }
    }
}
