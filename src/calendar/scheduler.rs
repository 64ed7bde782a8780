//! The scheduler worker: reminders, personal reminders and snoozes, agenda mails, cron jobs,
//! and the calendar file watched for changes.
//!
//! - The core is [`process`]: everything due in `(from, to]`, with both instants given, so
//!   tests drive it with fixed times and no sleeping. [`run`] only loops: process up to now,
//!   persist the instant (`kv` key [`LAST_CHECK`]), sleep until the next due reminder, snooze
//!   or job (at most an hour), or until woken (the calendar changed) or cancelled; every
//!   `calendar.watch_secs` it checks whether the calendar file changed and reloads it
//!   (through [`changes`](super::changes), which tells people what moved), and whether
//!   another process changed the stored calendar (`convene calendar import` queues its
//!   notices in the outbox; the outbox workers are woken to send them).
//! - Nothing pending is held in memory: each pass loads the calendar (a few hundred items)
//!   and computes what is due from it, series by occurrence.
//! - Each firing is recorded (`calendar_fired`, or the snooze's own row) in the same
//!   transaction that queues its posts and mails; a key already recorded is skipped, so a
//!   reminder goes out once even across crashes and restarts, and the outboxes send each
//!   queued entry once. In that transaction the item's revision is read again: if the item
//!   changed since the pass loaded it (a meeting moved a moment ago), nothing is sent and the
//!   same window is processed again with the new calendar ([`Pass::stale`]) — a reminder for
//!   the old time never goes out.
//! - Reminders to 🔔 subscribers, personal reminders and snoozes are direct messages written
//!   in the reader's own zone (`!tz`) beside the calendar's.
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
    /// Personal reminders, snoozes and agenda mails sent (their firing keys).
    pub personal: Vec<String>,
    /// An item changed while the pass ran: its window must be processed again.
    pub stale: bool,
}

impl Pass {
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty()
            && self.late.is_empty()
            && self.skipped.is_empty()
            && self.jobs.is_empty()
            && self.personal.is_empty()
            && !self.stale
    }
}

/// The worker. The calendar file is loaded before any worker starts (so the mail pipeline
/// already sees the calls when it matches applications to them); this loop reloads it when
/// it changes.
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
    let mut watch = cal.s.watch.map(tokio::time::interval);
    let mut generation = store::generation(&db).await?;
    loop {
        let now = Utc::now();
        if now > last {
            let pass = process(&cal, last, now).await?;
            if !pass.is_empty() {
                tracing::info!(?pass, "calendar firings");
            }
            if pass.stale {
                // The calendar changed under the pass: the same window again, fresh.
                continue;
            }
            last = now;
            db.kv_set(LAST_CHECK, &now.timestamp_millis().to_string())
                .await?;
        }
        let snap = store::load(&db).await?;
        let next = [
            next_wake(&snap.cal, &cal.s, last),
            next_stored(&cal, &snap.cal, last).await?,
        ]
        .into_iter()
        .flatten()
        .min();
        let sleep = next
            .map(|n| (n - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(MAX_SLEEP)
            .min(MAX_SLEEP);
        tracing::debug!(?next, ?sleep, "scheduler sleeping");
        let nap = tokio::time::sleep(sleep);
        tokio::pin!(nap);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                _ = cal.wake.notified() => break,
                _ = &mut nap => break,
                _ = tick(&mut watch) => {
                    if super::changes::file_changed(&cal) {
                        reload(&cal).await?;
                        break;
                    }
                    // Changed by another process (`convene calendar import`): plan again, and
                    // have the outbox send what that process queued.
                    let now = store::generation(&db).await?;
                    if now != generation {
                        generation = now;
                        cal.outbox.wake(crate::outbox::Transport::Matrix);
                        cal.outbox.wake(crate::outbox::Transport::Mail);
                        break;
                    }
                }
            }
        }
    }
}

/// The next tick of the file watch; never, without one.
async fn tick(watch: &mut Option<tokio::time::Interval>) {
    match watch {
        Some(interval) => {
            interval.tick().await;
        }
        None => std::future::pending().await,
    }
}

/// The calendar file changed: load it (people hear of what moved), or say why not, once per
/// version of the file.
async fn reload(cal: &Service) -> anyhow::Result<()> {
    match super::changes::load_file(cal).await {
        Ok(n) => tracing::info!(changed = n, "calendar file reloaded"),
        Err(e) => {
            let why = format!("{e:#}");
            tracing::warn!(
                error = why,
                "calendar file not reloaded; keeping the stored calendar"
            );
            let key = Key::Notice(format!("calendar-file-error-{}", crate::storage::now_ms()));
            let text = format!("⚠ The changed calendar file was not loaded: {why}");
            cal.outbox
                .notice(key, &cal.s.management_room, &text)
                .await?;
        }
    }
    Ok(())
}

/// The next instant after `after` when a reminder or a job is due.
pub fn next_wake(cal: &Calendar, s: &Settings, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let reminder = reminders::next_due(cal, &s.calendar.offsets, s.tz, after);
    let agenda = s
        .agenda_before
        .and_then(|o| reminders::next_due(cal, &agenda_offsets(o), s.tz, after));
    let jobs = s.jobs.iter().filter_map(|j| j.schedule.next_after(after));
    reminder.into_iter().chain(agenda).chain(jobs).min()
}

/// The next personal reminder or snooze due after `after`.
async fn next_stored(
    svc: &Service,
    cal: &Calendar,
    after: DateTime<Utc>,
) -> anyhow::Result<Option<DateTime<Utc>>> {
    let tz = svc.s.tz;
    let personal = store::personal(&svc.db)
        .await?
        .into_iter()
        .filter_map(|p| reminders::personal(p.id, &cal.occurrence(&p.item)?, p.offset, tz))
        .map(|r| r.due)
        .filter(|due| *due > after);
    let snoozes = store::pending_snoozes(&svc.db)
        .await?
        .into_iter()
        .map(|s| s.due.max(after + TimeDelta::milliseconds(1)));
    Ok(personal.chain(snoozes).min())
}

/// The offsets the agenda mails fire at: meetings only.
fn agenda_offsets(before: TimeDelta) -> reminders::Offsets {
    reminders::Offsets {
        meeting: vec![before],
        call_close: Vec::new(),
        deadline: Vec::new(),
    }
}

/// Handles everything due in `(from, to]`, as seen at `to`.
pub async fn process(
    svc: &Service,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> anyhow::Result<Pass> {
    let (outbox, s) = (&svc.outbox, &*svc.s);
    let db = outbox.db();
    let snap = store::load(db).await?;
    let tz = s.tz;
    let grace = s.grace;
    let mut pass = Pass::default();
    let mut too_old = Vec::new();
    let due = reminders::due_between(&snap.cal, &s.calendar.offsets, tz, from, to);
    let (subscribers, zones) = if due.is_empty() {
        Default::default()
    } else {
        (
            store::subscribers(&db.pool).await?,
            store::member_tzs(&db.pool).await?,
        )
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
        if !unchanged(&mut tx, &snap, &r.item).await? {
            pass.stale = true;
            return Ok(pass);
        }
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
            // 🔔 subscribers: once per user (the key), whatever the number of groups, in
            // their own zone.
            let mut told = std::collections::HashSet::new();
            for (user, _) in subscribers.iter().filter(|s| item.concerns(Some(&s.1))) {
                if !told.insert(user.clone()) {
                    continue;
                }
                let z = humanize::Zones::new(tz, zones.get(user).copied());
                let text = reminders::render_reminder_in(&r, &item, to, z, late);
                dm(&mut tx, &r.key, user, &text).await?;
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
    if personal_and_snoozes(svc, &snap, from, to, &mut pass).await? {
        return Ok(pass);
    }
    if let Some(before) = s.agenda_before
        && agenda_mails(svc, &snap, before, from, to, &mut pass).await?
    {
        return Ok(pass);
    }
    if !too_old.is_empty() {
        let mut tx = outbox.begin().await?;
        let mut lines = Vec::new();
        for (r, item) in &too_old {
            if store::record_firing(&mut *tx, &r.key, Firing::Skipped).await? {
                let due = r.due.with_timezone(&tz);
                lines.push(format!(
                    "- {} (due {})",
                    crate::markup::escape_markdown_line(item.title()),
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

/// Whether item `r` is still at the revision `snap` holds (read in the firing's transaction).
async fn unchanged(
    tx: &mut crate::outbox::Tx,
    snap: &store::Snapshot,
    r: &crate::calendar::ItemRef,
) -> anyhow::Result<bool> {
    Ok(store::revision_in(tx, r).await? == snap.revisions.get(r).copied())
}

/// Queues reminder `key` to `user` by direct message.
async fn dm(tx: &mut crate::outbox::Tx, key: &str, user: &str, text: &str) -> anyhow::Result<()> {
    let key = Key::Reminder {
        key: key.to_owned(),
        to: Target::Dm(user.to_owned()),
    };
    let op = MatrixOp::DirectMessage {
        user: user.to_owned(),
        content: crate::chat::notice_markdown(text),
    };
    tx.matrix(key, op, None, Report::none()).await?;
    Ok(())
}

/// Personal reminders and snoozes due in `(from, to]` (snoozes: due by `to`), by direct
/// message in the reader's zone. Returns true when the pass went stale.
async fn personal_and_snoozes(
    svc: &Service,
    snap: &store::Snapshot,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    pass: &mut Pass,
) -> anyhow::Result<bool> {
    let (db, tz, grace) = (&svc.db, svc.s.tz, svc.s.grace);
    let personal = store::personal(db).await?;
    let snoozes: Vec<store::Snooze> = store::pending_snoozes(db)
        .await?
        .into_iter()
        .filter(|s| s.due <= to)
        .collect();
    if personal.is_empty() && snoozes.is_empty() {
        return Ok(false);
    }
    let zones = store::member_tzs(&db.pool).await?;
    let zone = |user: &str| humanize::Zones::new(tz, zones.get(user).copied());
    for p in personal {
        let Some(occ) = snap.cal.occurrence(&p.item) else {
            continue;
        };
        let Some(r) = reminders::personal(p.id, &occ, p.offset, tz) else {
            continue;
        };
        if r.due <= from || r.due > to {
            continue;
        }
        let how = match reminders::classify_due(r.due, to, grace) {
            Due::NotYet => continue,
            Due::OnTime => Firing::OnTime,
            Due::Late => Firing::Late,
            Due::TooOld => Firing::Skipped,
        };
        let mut tx = svc.outbox.begin().await?;
        if !unchanged(&mut tx, snap, &r.item).await? {
            pass.stale = true;
            return Ok(true);
        }
        if store::record_firing(&mut *tx, &r.key, how).await? && how != Firing::Skipped {
            let Some(item) = snap.cal.get(&r.item) else {
                continue;
            };
            let text = format!(
                "⏰ Your reminder:\n{}",
                reminders::render_reminder_in(&r, &item, to, zone(&p.user), how == Firing::Late)
            );
            dm(&mut tx, &r.key, &p.user, &text).await?;
            pass.personal.push(r.key.clone());
        }
        tx.commit().await?;
    }
    for sn in snoozes {
        let mut tx = svc.outbox.begin().await?;
        if !store::fire_snooze(&mut tx, &sn.user, &sn.key).await? {
            continue;
        }
        // As the occurrence reads now: moved, it says the new time; cancelled, nothing.
        let occ = snap.cal.occurrence(&sn.item).filter(|o| !o.cancelled);
        let late = reminders::classify_due(sn.due, to, grace);
        if let (Some(occ), Due::OnTime | Due::Late) = (occ, late)
            && let Some(item) = snap.cal.get(&occ.item_ref())
        {
            let r = Reminder {
                key: sn.key.clone(),
                item: occ.item_ref(),
                occurrence: occ.original.map(|_| occ.id.clone()),
                due: sn.due,
                offset: TimeDelta::zero(),
                at: occ.start().start_utc(tz),
            };
            let text = format!(
                "⏰ Reminder again, as you asked:\n{}",
                reminders::render_reminder_in(&r, &item, to, zone(&sn.user), false)
            );
            let key = Key::Snoozed {
                key: sn.key.clone(),
                user: sn.user.clone(),
            };
            let op = MatrixOp::DirectMessage {
                user: sn.user.clone(),
                content: crate::chat::notice_markdown(&text),
            };
            tx.matrix(key, op, None, Report::none()).await?;
            pass.personal.push(format!("snooze:{}:{}", sn.user, sn.key));
        }
        tx.commit().await?;
    }
    Ok(false)
}

/// With `calendar.agenda_before`: each meeting with an agenda, that long before it, has its
/// agenda and invitation mailed to its groups' members (once per occurrence and start).
/// Returns true when the pass went stale.
async fn agenda_mails(
    svc: &Service,
    snap: &store::Snapshot,
    before: TimeDelta,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    pass: &mut Pass,
) -> anyhow::Result<bool> {
    let tz = svc.s.tz;
    for r in reminders::due_between(&snap.cal, &agenda_offsets(before), tz, from, to) {
        if reminders::classify_due(r.due, to, svc.s.grace) == Due::TooOld {
            continue;
        }
        let Some(item) = snap.cal.get(&r.item) else {
            continue;
        };
        let occurrence = r.occurrence.as_deref().unwrap_or(item.id());
        let Some(occ) = item.occurrence(occurrence) else {
            continue;
        };
        if occ.meeting().is_none_or(|m| m.agenda.is_empty()) {
            continue;
        }
        let emails = svc.member_emails(item.groups()).await?;
        let mut tx = svc.outbox.begin().await?;
        if !unchanged(&mut tx, snap, &r.item).await? {
            pass.stale = true;
            return Ok(true);
        }
        let key = format!("agenda:{}", r.key);
        if store::record_firing(&mut *tx, &key, Firing::OnTime).await? {
            let rev = snap.revisions.get(&r.item).copied().unwrap_or(0);
            super::invite::mail_agenda(svc, &mut tx, &item, &occ, rev, &emails, to).await?;
            pass.personal.push(key);
        }
        tx.commit().await?;
    }
    Ok(false)
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

/// For a meeting: one mail per secretariat address, with the invitation attached (the whole
/// series, so the client shows it), dated by the occurrence reminded of.
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
    let occurrence = r.occurrence.as_deref().and_then(|id| item.occurrence(id));
    let shown = occurrence.as_ref().and_then(|o| o.meeting()).unwrap_or(m);
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
                    crate::markup::single_line(&shown.title),
                    humanize::when(&shown.start, now, s.tz)
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

/// The weekly digest: what happens in the coming three weeks, series by occurrence (cancelled
/// ones left out), and the calls that close in that time.
pub fn digest(cal: &Calendar, now: DateTime<Utc>, tz: Tz) -> String {
    let end = now + TimeDelta::days(DIGEST_DAYS);
    let mut rows = Vec::new();
    // A whole day already begun is still coming: look back a day, then keep what is not past.
    for o in cal.occurrences_between(now - TimeDelta::days(1), end, tz) {
        let spec = o.start();
        if o.cancelled || matches!(o.item, Item::Call(_)) {
            continue;
        }
        if spec.is_month_only() || spec.is_past(now, tz) {
            continue;
        }
        let prefix = match &o.item {
            Item::Deadline(_) => "Deadline: ",
            _ => "",
        };
        rows.push((
            spec.start_utc(tz),
            digest_line(spec, prefix, &o.item, now, tz),
        ));
    }
    for c in &cal.calls {
        let spec = &c.closes;
        if spec.is_month_only() || spec.is_past(now, tz) || spec.start_utc(tz) > end {
            continue;
        }
        let item = Item::Call(c.clone());
        rows.push((
            spec.start_utc(tz),
            digest_line(spec, "Call closes: ", &item, now, tz),
        ));
    }
    rows.sort();
    if rows.is_empty() {
        return "**The coming 3 weeks**: nothing planned.".to_owned();
    }
    let lines: Vec<String> = rows.into_iter().map(|r| r.1).collect();
    format!("**The coming 3 weeks**\n{}", lines.join("\n"))
}

fn digest_line(
    spec: &crate::calendar::DateSpec,
    prefix: &str,
    item: &Item,
    now: DateTime<Utc>,
    tz: Tz,
) -> String {
    format!(
        "- {} · {prefix}{}{}",
        humanize::when(spec, now, tz),
        crate::markup::escape_markdown_line(item.title()),
        humanize::groups_suffix(item.groups())
    )
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
