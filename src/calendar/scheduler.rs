//! The scheduler worker: reminders and cron jobs.
//!
//! - The core is [`process`]: everything due in `(from, to]`, with both instants given, so
//!   tests drive it with fixed times and no sleeping. [`run`] only loops: process up to now,
//!   persist the instant (`kv` key [`LAST_CHECK`]), sleep until the next due reminder or job
//!   (at most an hour), or until woken (the calendar changed) or cancelled.
//! - Nothing pending is held in memory: each pass loads the calendar (a few hundred items)
//!   and computes what is due from it.
//! - Each firing is recorded (`calendar_fired`) in the same transaction that queues its posts
//!   and mails; a key already recorded is skipped, so a reminder goes out once even across
//!   crashes and restarts, and the outboxes send each queued entry once.
//! - Missed while down: within `calendar.grace_hours` (default 12) a reminder is sent marked
//!   late; older ones are recorded and listed once in the management room. A cron job that
//!   was missed fires once (its latest instant) if within the grace period.

use std::time::Duration;

use chrono::{DateTime, Datelike as _, TimeDelta, Utc};
use chrono_tz::Tz;
use lettre::message::Mailbox;
use tokio_util::sync::CancellationToken;

use super::ics::{self, Party};
use super::model::{Calendar, Item};
use super::reminders::{self, Due, Reminder};
use super::service::{Service, Settings};
use super::store::{self, Firing};
use super::{Cadence, Schedule, cadence, humanize};
use crate::config::JobAction;
use crate::mail::compose::OutMail;
use crate::outbox::{Key, MatrixOp, Outbox, Report, Target};

/// `kv` key of the last instant the scheduler handled (Unix ms).
pub const LAST_CHECK: &str = "calendar.last_check";
const MAX_SLEEP: Duration = Duration::from_secs(3600);
const DIGEST_DAYS: i64 = 21;

/// What one pass did: keys of what was sent, sent late, skipped as too old, and jobs run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub sent: Vec<String>,
    pub late: Vec<String>,
    pub skipped: Vec<String>,
    pub jobs: Vec<String>,
}

impl Pass {
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
            && self.late.is_empty()
            && self.skipped.is_empty()
            && self.jobs.is_empty()
    }
}

/// The worker. The calendar file is loaded before any worker starts (so the mail pipeline
/// already sees the calls when it matches applications to them).
pub async fn run(cal: Service, cancel: CancellationToken) -> anyhow::Result<()> {
    let db = cal.outbox.db().clone();
    let mut last = match db.kv_get(LAST_CHECK).await? {
        Some(v) => v
            .parse::<i64>()
            .ok()
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_else(Utc::now),
        None => Utc::now(),
    };
    loop {
        let now = Utc::now();
        if now > last {
            let pass = process(&cal.outbox, &cal.s, last, now).await?;
            if !pass.is_empty() {
                tracing::info!(?pass, "calendar firings");
            }
            last = now;
            db.kv_set(LAST_CHECK, &now.timestamp_millis().to_string())
                .await?;
        }
        let snap = store::load(&db).await?;
        let next = next_wake(&snap.cal, &cal.s, last);
        let sleep = next
            .map(|n| (n - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        tracing::debug!(?next, ?sleep, "scheduler sleeping");
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = cal.wake.notified() => {}
            _ = tokio::time::sleep(sleep) => {}
        }
    }
}

/// The next instant after `after` when a reminder or a job is due.
pub fn next_wake(cal: &Calendar, s: &Settings, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let reminder = reminders::next_due(cal, &s.calendar.offsets, s.tz, after);
    let jobs = s.jobs.iter().filter_map(|j| j.schedule.next_after(after));
    reminder.into_iter().chain(jobs).min()
}

/// Handles everything due in `(from, to]`, as seen at `to`.
pub async fn process(
    outbox: &Outbox,
    s: &Settings,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Pass> {
    let db = outbox.db();
    let snap = store::load(db).await?;
    let tz = s.tz;
    let grace = s.grace;
    let mut pass = Pass::default();
    let mut too_old = Vec::new();
    let due = reminders::due_between(&snap.cal, &s.calendar.offsets, tz, from, to);
    let subscribers = if due.is_empty() {
        Vec::new()
    } else {
        store::subscribers(db).await?
    };
    for r in due {
        let Some(item) = snap.cal.get(&r.item) else {
            continue;
        };
        let how = match reminders::classify_due(r.due, to, grace) {
            Due::NotYet => continue,
            Due::OnTime => Firing::OnTime,
            Due::Late => Firing::Late,
            Due::TooOld => {
                too_old.push((r, item));
                continue;
            }
        };
        let mut tx = outbox.begin().await?;
        if store::record_firing(&mut *tx, &r.key, how).await? {
            let late = how == Firing::Late;
            let text = reminders::render_reminder(&r, &item, to, tz, late);
            for (slug, room) in s.groups.rooms_of(item.groups()) {
                let key = Key::Reminder {
                    key: r.key.clone(),
                    to: Target::Group(slug.to_owned()),
                };
                tx.post(key, room, crate::chat::notice_markdown(&text))
                    .await?;
            }
            // 🔔 subscribers: once per user (the key), whatever the number of groups.
            let mut told = std::collections::HashSet::new();
            for (user, _) in subscribers.iter().filter(|s| item.concerns(Some(&s.1))) {
                if !told.insert(user.clone()) {
                    continue;
                }
                let key = Key::Reminder {
                    key: r.key.clone(),
                    to: Target::Dm(user.clone()),
                };
                let op = MatrixOp::DirectMessage {
                    user: user.clone(),
                    content: crate::chat::notice_markdown(&text),
                };
                tx.matrix(key, op, None, Report::none()).await?;
            }
            let sequence = snap.sequence(&r.item);
            for (key, mail) in reminder_mails(s, outbox, &r, &item, sequence, &text, to)? {
                tx.mail(key, &mail, Report::none()).await?;
            }
            let list = if late { &mut pass.late } else { &mut pass.sent };
            list.push(r.key.clone());
        }
        tx.commit().await?;
    }
    if !too_old.is_empty() {
        let mut tx = outbox.begin().await?;
        let mut lines = Vec::new();
        for (r, item) in &too_old {
            if store::record_firing(&mut *tx, &r.key, Firing::Skipped).await? {
                let due = r.due.with_timezone(&tz);
                lines.push(format!(
                    "- {} (due {})",
                    item.title(),
                    due.format("%a %-d %b %H:%M")
                ));
                pass.skipped.push(r.key.clone());
            }
        }
        if let Some(first) = pass.skipped.first() {
            let text = format!(
                "⚠️ **Reminders missed while convene was down** (older than {} h, not sent):\n{}",
                grace.num_hours(),
                lines.join("\n")
            );
            let key = Key::RemindersMissed(first.clone());
            tx.post(key, &s.management_room, crate::chat::notice_markdown(&text))
                .await?;
        }
        tx.commit().await?;
    }
    for job in &s.jobs {
        let Some(at) = latest_in(&job.schedule, from, to) else {
            continue;
        };
        if reminders::classify_due(at, to, grace) == Due::TooOld {
            continue;
        }
        let key = Key::Job {
            name: job.name.clone(),
            at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        let text = match job.action {
            JobAction::Digest => digest(&snap.cal, to, tz),
            JobAction::Cadence => cadence_report(s, &snap.cal, to.with_timezone(&tz).year()),
        };
        let mut tx = outbox.begin().await?;
        if store::record_firing(&mut *tx, &key.to_string(), Firing::OnTime).await? {
            tx.post(
                key.clone(),
                &s.management_room,
                crate::chat::notice_markdown(&text),
            )
            .await?;
            pass.jobs.push(key.to_string());
        }
        tx.commit().await?;
    }
    Ok(pass)
}

/// The last firing of `schedule` in `(from, to]`.
fn latest_in(schedule: &Schedule, from: DateTime<Utc>, to: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut last = None;
    let mut at = schedule.next_after(from);
    // A long downtime with a per-minute job: stop after a year of minutes.
    for _ in 0..600_000 {
        match at {
            Some(t) if t <= to => {
                last = Some(t);
                at = schedule.next_after(t);
            }
            _ => break,
        }
    }
    last
}

/// For a meeting: one mail per secretariat address, with the invitation attached.
fn reminder_mails(
    s: &Settings,
    outbox: &Outbox,
    r: &Reminder,
    item: &Item,
    sequence: u32,
    text: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<(Key, OutMail)>> {
    let Item::Meeting(m) = item else {
        return Ok(Vec::new());
    };
    let from = outbox.from();
    let organizer_email = from.address();
    let organizer = Party {
        name: from.name.as_deref(),
        email: &organizer_email,
    };
    let mut out = Vec::new();
    for addr in &s.calendar.secretariat_email {
        let to: Mailbox = addr.parse()?;
        let email = to.email.to_string();
        let attendee = Party {
            name: to.name.as_deref(),
            email: &email,
        };
        let key = Key::ReminderMail {
            key: r.key.clone(),
            to: email.clone(),
        };
        out.push((
            key,
            OutMail {
                to: vec![addr.clone()],
                subject: format!(
                    "Reminder: {} — {}",
                    m.title,
                    humanize::when(&m.start, now, s.tz)
                ),
                text: text.to_owned(),
                auto_submitted: Some("auto-generated"),
                calendar: ics::meeting_invitation(m, sequence, &organizer, &attendee, now)
                    .map(|ics| (ics, "REQUEST")),
                ..OutMail::default()
            },
        ));
    }
    Ok(out)
}

/// The weekly digest: what happens in the coming three weeks.
pub fn digest(cal: &Calendar, now: DateTime<Utc>, tz: Tz) -> String {
    let end = now + TimeDelta::days(DIGEST_DAYS);
    let mut rows = Vec::new();
    for item in cal.items() {
        let (spec, prefix) = match &item {
            Item::Call(c) => (&c.closes, "Call closes: "),
            Item::Meeting(m) if m.cancelled => continue,
            Item::Deadline(_) => (item.when(), "Deadline: "),
            _ => (item.when(), ""),
        };
        if spec.is_month_only() || spec.is_past(now, tz) || spec.start_utc(tz) > end {
            continue;
        }
        let line = format!(
            "- {} · {prefix}{}{}",
            humanize::when(spec, now, tz),
            item.title(),
            humanize::groups_suffix(item.groups())
        );
        rows.push((spec.start_utc(tz), line));
    }
    rows.sort();
    if rows.is_empty() {
        return "**The coming 3 weeks**: nothing planned.".to_owned();
    }
    let lines: Vec<String> = rows.into_iter().map(|r| r.1).collect();
    format!("**The coming 3 weeks**\n{}", lines.join("\n"))
}

/// Each group's cadence rule.
pub fn rule_of(s: &Settings, slug: &str) -> Cadence {
    s.groups
        .get(slug)
        .map_or_else(Cadence::default, |g| Cadence {
            min_meetings: g.cadence.min_meetings,
            min_online: g.cadence.min_online,
            min_physical_brussels: g.cadence.min_physical_brussels,
        })
}

/// The cadence check of `year`: the groups that fall short and what they lack.
pub fn cadence_report(settings: &Settings, cal: &Calendar, year: i32) -> String {
    let mut lines = Vec::new();
    for g in settings.groups.iter() {
        let Some(s) = cadence::tally(cal, &g.slug, year).shortfall(&rule_of(settings, &g.slug))
        else {
            continue;
        };
        let mut missing = Vec::new();
        for (n, what) in [
            (s.meetings, "meeting(s)"),
            (s.online, "online"),
            (s.physical_brussels, "physical in Brussels"),
        ] {
            if n > 0 {
                missing.push(format!("{n} {what}"));
            }
        }
        lines.push(format!("- {}: missing {}", g.name, missing.join(", ")));
    }
    if lines.is_empty() {
        format!("**Cadence {year}**: every group is on track.")
    } else {
        format!(
            "⚠️ **Cadence {year}** — short of the plan:\n{}",
            lines.join("\n")
        )
    }
}

#[cfg(test)]
mod tests;
