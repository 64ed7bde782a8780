//! The secretariat's edits: `!meeting add|edit|move|cancel|restore|agenda|send`,
//! `!deadline add`, `!call add`.
//!
//! - `add` takes the series keys of the calendar file: `repeat=daily|weekly|monthly`,
//!   `interval=2`, `days=tu,th` (monthly: `2tu`, `-1fr`), `monthdays=15,-1`,
//!   `until=2026-06-30` or `count=10`; the rule is checked as the file's is, and an error
//!   names the key.
//! - `on=2026-05-12` names one occurrence of a series (its date in the rule): `cancel` and
//!   `restore` it, `move` it (`to=2026-05-13T14:00`, or `to=14:00` on the same day, `end=…`),
//!   `edit` its title, mode, place or link. Without `on=`, they act on the whole meeting;
//!   `move` of a whole series takes a time of day (`to=14:00`: every date at 14:00).
//! - `agenda` replaces the meeting's agenda with the points written below the command, one a
//!   line (see [`agenda::parse`]); `agenda ID clear` empties it.
//! - `send` mails the agenda and the invitation of the next (or `on=`) date to the members of
//!   the meeting's groups, one mail each.
//!
//! Every change is saved through [`changes::save`], which tells the groups' rooms, the 🔔
//! subscribers and the secretariat's calendar, and so reschedules the reminders.

use chrono::{NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::parse_kv;
use crate::calendar::model::{Call, CallKind, Deadline, Item, ItemKind, ItemRef, Meeting, Mode};
use crate::calendar::recurrence::{ByDay, End, Freq, Override, Repeat};
use crate::calendar::service::Service;
use crate::calendar::store::{self, Change};
use crate::calendar::{DateSpec, agenda, changes, humanize, ids, invite};
use crate::chat::Invocation;
use crate::markup;

struct Args(Vec<(String, String)>);

impl Args {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn need(&self, key: &str) -> anyhow::Result<&str> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| anyhow::anyhow!("missing `{key}=…`"))
    }

    /// Bare words (without `key=`).
    fn bare(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(|(k, _)| k.is_empty())
            .map(|(_, v)| v.as_str())
    }

    fn date(&self, key: &str, tz: Tz) -> anyhow::Result<Option<DateSpec>> {
        self.get(key)
            .map(|v| DateSpec::parse(v, tz).map_err(|e| anyhow::anyhow!("`{key}`: {e}")))
            .transpose()
    }

    /// [`Args::date`] of a key that must be given.
    fn need_date(&self, key: &str, tz: Tz) -> anyhow::Result<DateSpec> {
        self.date(key, tz)?
            .ok_or_else(|| anyhow::anyhow!("missing `{key}=…`"))
    }

    fn day(&self, key: &str) -> anyhow::Result<Option<NaiveDate>> {
        self.get(key).map(|v| plain_day(key, v)).transpose()
    }

    fn groups(&self, ctx: &Service, default: Option<&str>) -> anyhow::Result<Option<Vec<String>>> {
        let Some(v) = self.get("group").or(self.get("groups")) else {
            return Ok(default.map(|g| vec![g.to_owned()]));
        };
        let list: Vec<String> = v
            .split(',')
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty() && s != "all")
            .collect();
        if let Some(bad) = list.iter().find(|g| ctx.s.groups.get(g).is_none()) {
            anyhow::bail!("no group `{bad}`");
        }
        Ok(Some(list))
    }

    /// The series keys, as a checked rule for a series starting at `start`; `None` without
    /// `repeat=`.
    fn repeat(&self, start: &DateSpec) -> anyhow::Result<Option<Repeat>> {
        let series_keys = ["interval", "days", "monthdays", "until", "count"];
        let Some(freq) = self.get("repeat") else {
            if let Some(k) = series_keys.iter().find(|k| self.get(k).is_some()) {
                anyhow::bail!(
                    "`{k}`: only a series has this; add `repeat=weekly` (or daily, monthly)"
                );
            }
            return Ok(None);
        };
        let freq = match freq.to_lowercase().as_str() {
            "daily" => Freq::Daily,
            "weekly" => Freq::Weekly,
            "monthly" => Freq::Monthly,
            other => anyhow::bail!("`repeat`: {other:?} is not daily, weekly or monthly"),
        };
        let mut rule = Repeat::new(freq);
        if let Some(n) = self.get("interval") {
            rule.interval = n
                .parse()
                .map_err(|_| anyhow::anyhow!("`interval`: {n:?} is not a number"))?;
        }
        if let Some(days) = self.get("days") {
            rule.days = list(days)
                .map(|d| {
                    d.parse::<ByDay>()
                        .map_err(|e| anyhow::anyhow!("`days`: {e}"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        if let Some(days) = self.get("monthdays") {
            rule.monthdays = list(days)
                .map(|d| {
                    d.parse::<i8>()
                        .map_err(|_| anyhow::anyhow!("`monthdays`: {d:?} is not a number"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        rule.end = match (self.get("count"), self.day("until")?) {
            (Some(_), Some(_)) => anyhow::bail!("`until`: give `count` or `until`, not both"),
            (Some(n), None) => End::Count(
                n.parse()
                    .map_err(|_| anyhow::anyhow!("`count`: {n:?} is not a number"))?,
            ),
            (None, Some(until)) => End::Until(until),
            (None, None) => End::Never,
        };
        check(&mut rule, start)?;
        Ok(Some(rule))
    }
}

fn list(text: &str) -> impl Iterator<Item = &str> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn plain_day(key: &str, v: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow::anyhow!("`{key}`: {v:?} is not a date like 2026-05-12"))
}

fn check(rule: &mut Repeat, start: &DateSpec) -> anyhow::Result<()> {
    rule.check(start)
        .map_err(|e| anyhow::anyhow!("`{}`: {}", e.key, e.message))
}

/// `to=`/`end=` of a move: `14:00` on `day` in the zone of `like`, or a date-time / day read in
/// that zone.
fn moved_to(
    key: &str,
    text: &str,
    day: NaiveDate,
    like: &DateSpec,
    tz: Tz,
) -> anyhow::Result<DateSpec> {
    let zone = like.zone(tz);
    if !text.contains('-') {
        let time = NaiveTime::parse_from_str(text.trim(), "%H:%M")
            .map_err(|_| anyhow::anyhow!("`{key}`: {text:?} is not HH:MM or a date-time"))?;
        if !like.is_exact() {
            anyhow::bail!("`{key}`: the meeting has no time of day; give a date");
        }
        return Ok(DateSpec::at(day, time, zone));
    }
    DateSpec::parse(text, zone).map_err(|e| anyhow::anyhow!("`{key}`: {e}"))
}

fn mode(v: &str) -> anyhow::Result<Mode> {
    match v {
        "online" => Ok(Mode::Online),
        "physical" | "in-person" => Ok(Mode::Physical),
        other => anyhow::bail!("`mode`: {other:?} is not online or physical"),
    }
}

/// An end given as `12:30` (on the start's day) or like the start.
fn end_of(a: &Args, start: &DateSpec, tz: Tz) -> anyhow::Result<Option<DateSpec>> {
    let Some(text) = a.get("end") else {
        return Ok(None);
    };
    let end = moved_to("end", text, start.first_day(), start, tz)?;
    if end.sort_key() < start.sort_key() {
        anyhow::bail!("`end`: {end} is before the start {start}");
    }
    Ok(Some(end))
}

pub(super) async fn edit(
    ctx: &Service,
    inv: &Invocation<'_>,
    name: &str,
    text: &str,
) -> anyhow::Result<String> {
    let tz = ctx.s.tz;
    // The first line holds the arguments; below it, an agenda's points.
    let (head, body) = text.split_once('\n').unwrap_or((text, ""));
    let mut pairs = parse_kv(head).map_err(|e| anyhow::anyhow!(e))?;
    let verb = match pairs.first() {
        Some((k, v)) if k.is_empty() => v.to_lowercase(),
        _ => anyhow::bail!("say what to do: `!{name} add …` (see `!help {name}`)"),
    };
    pairs.remove(0);
    if verb != "agenda" {
        pairs.extend(parse_kv(body).map_err(|e| anyhow::anyhow!(e))?);
    }
    // `!meeting cancel <id>`: a bare id.
    if let Some(pos) = pairs.iter().position(|(k, _)| k.is_empty()) {
        let (_, id) = pairs.remove(pos);
        pairs.push(("id".into(), id));
    }
    let a = Args(pairs);
    let groups = a.groups(ctx, inv.group)?;
    let on = a.day("on")?;
    let item = match (name, verb.as_str()) {
        ("meeting", "add") => {
            let title = a.need("title")?;
            let start = a.need_date("start", tz)?;
            Item::Meeting(Meeting {
                id: a
                    .get("id")
                    .map_or_else(|| ids::derive_id(title, &start), str::to_owned),
                title: title.to_owned(),
                groups: groups.unwrap_or_default(),
                mode: mode(a.get("mode").unwrap_or("online"))?,
                end: end_of(&a, &start, tz)?,
                repeat: a.repeat(&start)?,
                start,
                location: a.get("location").map(str::to_owned),
                join_link: a.get("link").map(str::to_owned),
                agenda: Vec::new(),
                minutes_link: a.get("minutes").map(str::to_owned),
                cancelled: false,
            })
        }
        ("meeting", "send") => return send(ctx, &a, on).await,
        ("meeting", verb) => {
            let r = ItemRef {
                kind: ItemKind::Meeting,
                id: a.need("id")?.to_owned(),
            };
            let Some((Item::Meeting(mut m), _)) = store::get(&ctx.db, &r).await? else {
                anyhow::bail!("no meeting `{}` (see `!meetings`)", r.id);
            };
            if let Some(on) = on {
                one_date(&m, on)?;
            }
            match verb {
                "cancel" => cancel(&mut m, on, true)?,
                "restore" => cancel(&mut m, on, false)?,
                "move" => move_meeting(&mut m, &a, on, tz)?,
                "edit" => edit_meeting(ctx, &mut m, &a, on, tz)?,
                "agenda" => {
                    m.agenda = if body.trim().is_empty() && a.bare().any(|w| w == "clear") {
                        Vec::new()
                    } else if body.trim().is_empty() {
                        anyhow::bail!(
                            "write the points below the command, one a line: \
                             `1. Adoption of the agenda (decision)`"
                        );
                    } else {
                        agenda::parse(body).map_err(|e| anyhow::anyhow!(e))?
                    };
                }
                _ => anyhow::bail!("unknown `!meeting {verb}` (see `!help meeting`)"),
            }
            Item::Meeting(m)
        }
        ("deadline", "add") => {
            let title = a.need("title")?;
            let due = a.need_date("due", tz)?;
            Item::Deadline(Deadline {
                id: a
                    .get("id")
                    .map_or_else(|| ids::derive_id(title, &due), str::to_owned),
                title: title.to_owned(),
                repeat: a.repeat(&due)?,
                due,
                groups: groups.unwrap_or_default(),
                source: a.get("source").map(str::to_owned),
            })
        }
        ("call", "add") => {
            let title = a.need("title")?;
            let opens = a.need_date("opens", tz)?;
            let closes = a.need_date("closes", tz)?;
            let kind = match a.get("kind").unwrap_or("members") {
                "members" => CallKind::Members,
                "partnership" => CallKind::Partnership,
                other => anyhow::bail!("`kind`: {other:?} is not members or partnership"),
            };
            Item::Call(Call {
                id: a
                    .get("id")
                    .map_or_else(|| ids::derive_id(title, &opens), str::to_owned),
                title: title.to_owned(),
                groups: groups.unwrap_or_default(),
                kind,
                opens,
                closes,
                link: a.get("link").map(str::to_owned),
            })
        }
        _ => anyhow::bail!("unknown `!{name} {verb}` (see `!help {name}`)"),
    };
    let (saved, told) = changes::save(ctx, &item, store::COMMAND).await?;
    if saved.change != Change::Unchanged {
        let target = format!("{} {}", item.kind(), item.id());
        let action = format!("calendar.{name}.{verb}");
        crate::audit::record(&ctx.db.pool, inv.sender, &action, &target, None).await?;
    }
    let what = match (saved.change, verb.as_str()) {
        (Change::Inserted, _) => "Added",
        (Change::Updated, "cancel") => "Cancelled",
        (Change::Updated, "restore") => "Restored",
        (Change::Updated, "move") => "Moved",
        (Change::Updated, "agenda") => "New agenda for",
        (Change::Updated, _) => "Updated",
        (Change::Unchanged, _) => "Unchanged:",
    };
    let now = Utc::now();
    // The date the command was about: the occurrence named, else the item's.
    let occurrence = on.and_then(|d| item.occurrence(&ids::occurrence_id(item.id(), d)));
    let when = match &occurrence {
        Some(o) => format!(
            "on {}: {}",
            humanize::day(
                d_or(o.original, o.start()),
                now.with_timezone(&tz).date_naive()
            ),
            humanize::when(o.start(), now, tz)
        ),
        None => humanize::when(item.when(), now, tz),
    };
    let rule = item
        .repeat()
        .map(|r| format!(" · {}", humanize::repeat(r, item.when().first_day())))
        .unwrap_or_default();
    let mut out = format!(
        "{what} {} `{}` — **{}**, {when}{rule}",
        item.kind(),
        item.id(),
        markup::escape_markdown_line(item.title()),
    );
    if told {
        out.push_str(
            "\nThe groups' rooms, the 🔔 subscribers and the secretariat's calendar are told.",
        );
    }
    Ok(out)
}

fn d_or(original: Option<NaiveDate>, start: &DateSpec) -> NaiveDate {
    original.unwrap_or_else(|| start.first_day())
}

/// `on=` must name a date of the series (or a one-off meeting's own day).
fn one_date(m: &Meeting, on: NaiveDate) -> anyhow::Result<()> {
    match m.series() {
        Some(series) if series.get(on).is_some() => Ok(()),
        Some(series) => anyhow::bail!(
            "`on`: {on} is not a date of the series ({}; `!meetings` lists them)",
            humanize::repeat(series.repeat, series.first_day())
        ),
        None if m.start.first_day() == on => Ok(()),
        None => anyhow::bail!(
            "`on`: `{}` is one meeting, on {}; leave out `on=`",
            m.id,
            m.start.first_day()
        ),
    }
}

/// Cancels (or with `cancel` false, restores) the whole meeting, or its date `on`.
fn cancel(m: &mut Meeting, on: Option<NaiveDate>, cancel: bool) -> anyhow::Result<()> {
    let start = m.start.clone();
    match (m.repeat.as_mut(), on) {
        (Some(rule), Some(on)) => {
            if cancel {
                if !rule.except.contains(&on) {
                    rule.except.push(on);
                }
                rule.overrides.retain(|o| o.on != on);
            } else {
                rule.except.retain(|d| *d != on);
            }
            check(rule, &start)
        }
        _ => {
            m.cancelled = cancel;
            Ok(())
        }
    }
}

/// `move`: one date of a series (`on=`), every date of a series to another time of day, or a
/// one-off meeting; the end moves along unless given.
fn move_meeting(m: &mut Meeting, a: &Args, on: Option<NaiveDate>, tz: Tz) -> anyhow::Result<()> {
    let to = a.need("to")?;
    let start = m.start.clone();
    match (m.repeat.as_mut(), on) {
        (Some(rule), Some(on)) => {
            if rule.except.contains(&on) {
                anyhow::bail!(
                    "{on} is cancelled: `!meeting restore {} on={on}` first",
                    m.id
                );
            }
            let new_start = moved_to("to", to, on, &start, tz)?;
            let new_end = a
                .get("end")
                .map(|e| moved_to("end", e, new_start.first_day(), &start, tz))
                .transpose()?;
            let planned = start.on_date(on);
            let mut o = rule.override_on(on).cloned().unwrap_or(Override {
                on,
                to: None,
                end: None,
                title: None,
                mode: None,
                location: None,
                join_link: None,
            });
            o.to = (new_start != planned).then_some(new_start);
            o.end = new_end;
            rule.overrides.retain(|x| x.on != on);
            let keeps_something = o.to.is_some()
                || o.end.is_some()
                || o.title.is_some()
                || o.mode.is_some()
                || o.location.is_some()
                || o.join_link.is_some();
            if keeps_something {
                rule.overrides.push(o);
            }
            check(rule, &start)
        }
        (Some(_), None) => {
            if NaiveTime::parse_from_str(to.trim(), "%H:%M").is_err() {
                anyhow::bail!(
                    "`to`: a series moves one date at a time (`on=2026-05-12 to=…`), or every \
                     date to another time of day (`to=14:00`)"
                );
            }
            let new_start = moved_to("to", to, start.first_day(), &start, tz)?;
            shift(m, new_start, a, tz)?;
            let (start, rule) = (m.start.clone(), m.repeat.as_mut());
            match rule {
                Some(rule) => check(rule, &start),
                None => Ok(()),
            }
        }
        (None, _) => {
            let new_start = moved_to("to", to, start.first_day(), &start, tz)?;
            shift(m, new_start, a, tz)
        }
    }
}

/// Moves the meeting's start to `new_start`, its end by as much (or to `end=`).
fn shift(m: &mut Meeting, new_start: DateSpec, a: &Args, tz: Tz) -> anyhow::Result<()> {
    let end = match a.get("end") {
        Some(e) => Some(moved_to("end", e, new_start.first_day(), &new_start, tz)?),
        // The same wall-clock length (the model keeps an end in its start's zone), or the
        // same number of days; none when the precision changes.
        None => match (&m.start, &m.end, &new_start) {
            (
                DateSpec::At { local: s, .. },
                Some(DateSpec::At { local: e, .. }),
                DateSpec::At { local, tz },
            ) => Some(DateSpec::At {
                local: *local + (*e - *s),
                tz: *tz,
            }),
            (DateSpec::Day(s), Some(DateSpec::Day(e)), DateSpec::Day(d)) => {
                Some(DateSpec::Day(*d + (*e - *s)))
            }
            _ => None,
        },
    };
    if let Some(e) = &end
        && e.sort_key() < new_start.sort_key()
    {
        anyhow::bail!("`end`: {e} is before the start {new_start}");
    }
    m.start = new_start;
    m.end = end;
    Ok(())
}

/// `edit`: the whole meeting, or with `on=` one date's title, mode, place and link.
fn edit_meeting(
    ctx: &Service,
    m: &mut Meeting,
    a: &Args,
    on: Option<NaiveDate>,
    tz: Tz,
) -> anyhow::Result<()> {
    if let (Some(on), Some(_)) = (on, &m.repeat) {
        if a.get("start").is_some() || a.get("end").is_some() {
            anyhow::bail!(
                "`start`: to move one date, say `!meeting move {} on={on} to=…`",
                m.id
            );
        }
        let start = m.start.clone();
        let series_mode = m.mode;
        let series_location = m.location.clone();
        let Some(rule) = m.repeat.as_mut() else {
            return Ok(());
        };
        let mut o = rule.override_on(on).cloned().unwrap_or(Override {
            on,
            to: None,
            end: None,
            title: None,
            mode: None,
            location: None,
            join_link: None,
        });
        if let Some(t) = a.get("title") {
            o.title = Some(t.to_owned()).filter(|t| !t.is_empty());
        }
        if let Some(v) = a.get("mode") {
            o.mode = Some(mode(v)?).filter(|x| *x != series_mode);
        }
        if let Some(v) = a.get("location") {
            o.location = (Some(v.to_owned()) != series_location).then(|| v.to_owned());
        }
        if let Some(v) = a.get("link") {
            o.join_link = Some(v.to_owned());
        }
        rule.overrides.retain(|x| x.on != on);
        rule.overrides.push(o);
        return check(rule, &start);
    }
    if let Some(t) = a.get("title") {
        m.title = t.to_owned();
    }
    if let Some(g) = a.groups(ctx, None)? {
        m.groups = g;
    }
    if let Some(v) = a.get("mode") {
        m.mode = mode(v)?;
    }
    if let Some(start) = a.date("start", tz)? {
        m.start = start;
    }
    if let Some(end) = end_of(a, &m.start, tz)? {
        m.end = Some(end);
    }
    for (key, field) in [
        ("location", &mut m.location),
        ("link", &mut m.join_link),
        ("minutes", &mut m.minutes_link),
    ] {
        if let Some(v) = a.get(key) {
            *field = Some(v.to_owned()).filter(|v| !v.is_empty());
        }
    }
    let start = m.start.clone();
    if let Some(rule) = m.repeat.as_mut() {
        check(rule, &start)?;
    }
    Ok(())
}

/// `!meeting send ID [on=DATE]`: the agenda and invitation of that date (else the next one)
/// mailed to the members of the meeting's groups.
async fn send(ctx: &Service, a: &Args, on: Option<NaiveDate>) -> anyhow::Result<String> {
    let r = ItemRef {
        kind: ItemKind::Meeting,
        id: a.need("id")?.to_owned(),
    };
    let Some((item @ Item::Meeting(_), rev)) = store::get(&ctx.db, &r).await? else {
        anyhow::bail!("no meeting `{}` (see `!meetings`)", r.id);
    };
    let now = Utc::now();
    let tz = ctx.s.tz;
    let occ = match on {
        Some(d) => item.occurrence(&ids::occurrence_id(item.id(), d)),
        None if item.repeat().is_none() => item.occurrence(item.id()),
        None => item.occurrences_from(now, tz).find(|o| !o.cancelled),
    };
    let Some(occ) = occ.filter(|o| !o.cancelled) else {
        anyhow::bail!("`{}` has no such date to come (see `!meetings`)", r.id);
    };
    let groups = item.groups().to_vec();
    let emails = ctx.member_emails(&groups).await?;
    let whose = if groups.is_empty() {
        "any group".to_owned()
    } else {
        groups
            .iter()
            .map(|g| humanize::group_label(g))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if emails.is_empty() {
        return Ok(format!(
            "No member addresses are known for {whose} (the accepted applicants): nothing mailed."
        ));
    }
    let mut tx = ctx.outbox.begin().await?;
    let n = invite::mail_agenda(ctx, &mut tx, &item, &occ, rev, &emails, now).await?;
    tx.commit().await?;
    Ok(format!(
        "📨 The agenda and invitation of **{}** ({}) go to {n} member(s) of {whose}, one mail each.",
        markup::escape_markdown_line(occ.item.title()),
        humanize::when(occ.start(), now, tz)
    ))
}
