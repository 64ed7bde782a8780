//! Calendar chat commands.
//!
//! Members ask (`!next`, `!meetings`, …); answers come from [`super::answers`] with the stored
//! calendar, in the group of the room or the group named as first argument. The secretariat
//! edits with `key=value` arguments (see [`parse_kv`]):
//! `!meeting add id=wg-health-2026-05 group=health start=2026-05-12T10:00 end=2026-05-12T12:00
//! mode=online title="Health online meeting"`. Values with spaces are quoted ("…" or “…”);
//! several groups are comma-separated; dates are `2026-05-12T10:00` (calendar time zone, or
//! `…[Europe/Lisbon]`), `2026-05-12` or `2026-05`.

use chrono::{Datelike as _, Utc};

use super::model::{Call, CallKind, Deadline, Item, ItemKind, ItemRef, Meeting, Mode};
use super::service::Service;
use super::{DateSpec, answers, cadence, ids, scheduler, store};
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
        "meeting",
        "add|edit|cancel id=… group=a,b title=\"…\" start=2026-05-12T10:00 end=… mode=online|physical location=\"…\" link=… minutes=…",
        "add, change or cancel a meeting (edit and cancel take id=…)",
        true,
    ),
    (
        "deadline",
        "add title=\"…\" due=2026-05-12 group=… id=…",
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
    // A first argument naming a group overrides the room's group.
    let (group, rest): (Option<&str>, &[&str]) = match args.first() {
        Some(a) if ctx.s.groups.get(a).is_some() => (Some(a), &args[1..]),
        _ => (inv.group, args),
    };
    let year = rest.iter().find_map(|a| a.parse::<i32>().ok());
    let this_year = now.with_timezone(&tz).year();
    let text = match name {
        "next" => answers::next(cal, group, now, tz),
        "meetings" => answers::meetings(cal, group, year.unwrap_or(this_year), now, tz),
        "agenda" if rest.is_empty() => "Which meeting? `!agenda <id | date | next>`".into(),
        "agenda" => answers::agenda(cal, group, &rest.join(" "), now, tz),
        "deadlines" => answers::deadlines(cal, group, now, tz),
        "calls" => answers::calls(cal, now, tz),
        "timeline" => answers::timeline(cal, year),
        "apply" => answers::apply(cal, now, &ctx.s.mailbox_address, tz),
        "ics" => ics_link(ctx, group),
        "cadence" => {
            let year = year.unwrap_or(this_year);
            let slugs: Vec<&str> = ctx.s.groups.slugs().collect();
            let rule = slugs
                .first()
                .map_or_else(Default::default, |s| scheduler::rule_of(&ctx.s, s));
            cadence::render_table(cal, &slugs, year, &rule)
        }
        "meeting" | "deadline" | "call" => match edit(ctx, inv, name, raw_args(inv.text)).await {
            Ok(t) => t,
            Err(e) => format!("⚠️ {e}"),
        },
        _ => anyhow::bail!("`{name}` is not a calendar command"),
    };
    Ok(Reply::text(text))
}

/// A reaction on one of convene's events whose key says it is the calendar's: ✅ on a
/// proposal card (the caller checked the sender is secretariat), 🔔 on a reminder in a group
/// room (anyone). Returns true when the key was the calendar's.
pub async fn on_reaction(
    ctx: &Service,
    sender: &str,
    is_secretariat: bool,
    room_id: &str,
    target: &Key,
    key: &str,
) -> anyhow::Result<bool> {
    match target {
        Key::Reminder {
            to: Target::Group(slug),
            ..
        } => {
            if key.starts_with('🔔') {
                super::detect::subscribe(ctx, sender, slug).await?;
            }
            Ok(true)
        }
        Key::Proposal(id) => {
            if key.trim_end_matches('\u{fe0f}') == "✅" && is_secretariat {
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

/// The command text after `!name`, quotes intact.
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
    fn date(&self, key: &str, tz: chrono_tz::Tz) -> anyhow::Result<Option<DateSpec>> {
        self.get(key)
            .map(|v| DateSpec::parse(v, tz).map_err(|e| anyhow::anyhow!("`{key}`: {e}")))
            .transpose()
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
}

async fn edit(
    ctx: &Service,
    inv: &Invocation<'_>,
    name: &str,
    text: &str,
) -> anyhow::Result<String> {
    let tz = ctx.s.tz;
    let mut pairs = parse_kv(text).map_err(|e| anyhow::anyhow!(e))?;
    let verb = match pairs.first() {
        Some((k, v)) if k.is_empty() => v.to_lowercase(),
        _ => anyhow::bail!("say what to do: `!{name} add …` (see `!help {name}`)"),
    };
    pairs.remove(0);
    // `!meeting cancel <id>`: a bare id.
    if let Some(pos) = pairs.iter().position(|(k, _)| k.is_empty()) {
        let (_, id) = pairs.remove(pos);
        pairs.push(("id".into(), id));
    }
    let a = Args(pairs);
    let groups = a.groups(ctx, inv.group)?;
    let item = match (name, verb.as_str()) {
        ("meeting", "add") => {
            let title = a.need("title")?;
            let start = a
                .date("start", tz)?
                .ok_or_else(|| anyhow::anyhow!("missing `start=…`"))?;
            Item::Meeting(Meeting {
                id: a
                    .get("id")
                    .map_or_else(|| ids::derive_id(title, &start), str::to_owned),
                title: title.to_owned(),
                groups: groups.unwrap_or_default(),
                mode: mode(a.get("mode").unwrap_or("online"))?,
                start,
                end: a.date("end", tz)?,
                location: a.get("location").map(str::to_owned),
                join_link: a.get("link").map(str::to_owned),
                agenda: Vec::new(),
                minutes_link: a.get("minutes").map(str::to_owned),
                cancelled: false,
                repeat: None,
            })
        }
        ("meeting", "edit" | "cancel") => {
            let r = ItemRef {
                kind: ItemKind::Meeting,
                id: a.need("id")?.to_owned(),
            };
            let Some((Item::Meeting(mut m), _)) = store::get(&ctx.db, &r).await? else {
                anyhow::bail!("no meeting `{}` (see `!meetings`)", r.id);
            };
            if verb == "cancel" {
                m.cancelled = true;
            } else {
                if let Some(t) = a.get("title") {
                    m.title = t.to_owned();
                }
                if let Some(g) = a.groups(ctx, None)? {
                    m.groups = g;
                }
                if let Some(v) = a.get("mode") {
                    m.mode = mode(v)?;
                }
                m.start = a.date("start", tz)?.unwrap_or(m.start);
                m.end = a.date("end", tz)?.or(m.end);
                for (key, field) in [
                    ("location", &mut m.location),
                    ("link", &mut m.join_link),
                    ("minutes", &mut m.minutes_link),
                ] {
                    if let Some(v) = a.get(key) {
                        *field = Some(v.to_owned()).filter(|v| !v.is_empty());
                    }
                }
            }
            Item::Meeting(m)
        }
        ("deadline", "add") => {
            let title = a.need("title")?;
            let due = a
                .date("due", tz)?
                .ok_or_else(|| anyhow::anyhow!("missing `due=…`"))?;
            Item::Deadline(Deadline {
                id: a
                    .get("id")
                    .map_or_else(|| ids::derive_id(title, &due), str::to_owned),
                title: title.to_owned(),
                due,
                groups: groups.unwrap_or_default(),
                source: a.get("source").map(str::to_owned),
                repeat: None,
            })
        }
        ("call", "add") => {
            let title = a.need("title")?;
            let opens = a
                .date("opens", tz)?
                .ok_or_else(|| anyhow::anyhow!("missing `opens=…`"))?;
            let closes = a
                .date("closes", tz)?
                .ok_or_else(|| anyhow::anyhow!("missing `closes=…`"))?;
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
    let change = store::upsert(&ctx.db, &item, store::COMMAND).await?;
    ctx.wake.notify_one();
    if change != store::Change::Unchanged {
        let target = format!("{} {}", item.kind(), item.id());
        let action = format!("calendar.{name}.{verb}");
        crate::audit::record(&ctx.db.pool, inv.sender, &action, &target, None).await?;
    }
    let what = match change {
        store::Change::Inserted => "Added",
        store::Change::Updated if verb == "cancel" => "Cancelled",
        store::Change::Updated => "Updated",
        store::Change::Unchanged => "Unchanged:",
    };
    Ok(format!(
        "{what} {} `{}` — **{}**, {}",
        item.kind(),
        item.id(),
        item.title(),
        super::humanize::when(item.when(), Utc::now(), tz)
    ))
}

fn mode(v: &str) -> anyhow::Result<Mode> {
    match v {
        "online" => Ok(Mode::Online),
        "physical" | "in-person" => Ok(Mode::Physical),
        other => anyhow::bail!("`mode`: {other:?} is not online or physical"),
    }
}

#[cfg(test)]
mod tests;
