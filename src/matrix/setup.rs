//! `convene setup`: the space and its rooms, created or adopted, safe to run again.
//!
//! For the space (`matrix.space`), the management room (`matrix.management_room`) and each
//! group's room (`groups[].room`): a configured room id or alias that exists is adopted; an
//! alias that does not exist yet, or a placeholder, is created — with its name, a topic, its
//! alias (`#<prefix>-<slug>:<server>` unless the config names one), the secretariat invited
//! and given power level 100; the management room encrypted and invite-only. Every room is
//! linked into the space (`m.space.child` in the space, `m.space.parent` in the room). A
//! second run finds everything in place and changes nothing.
//!
//! It logs in with the bot's password as a device of its own (no store, logged out at the
//! end), so it can run while the daemon runs without touching the daemon's session.

use anyhow::{Context, anyhow};
use matrix_sdk::Client;
use matrix_sdk::ruma::api::client::room::create_room::v3::{Request as CreateRoom, RoomPreset};
use matrix_sdk::ruma::api::client::state::{get_state_event_for_key, send_state_event};
use matrix_sdk::ruma::events::StateEventType;
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId, RoomAliasId, RoomId};
use serde_json::{Value, json};

use crate::config::Config;

/// What one room became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// `space`, `management` or the group's slug.
    pub what: String,
    pub room_id: String,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub rooms: Vec<Placed>,
    /// One line per change; empty when everything was in place.
    pub changes: Vec<String>,
}

struct Target {
    what: String,
    configured: Option<String>,
    alias_local: String,
    name: String,
    topic: String,
    management: bool,
}

fn raw<T>(v: &Value) -> anyhow::Result<Raw<T>> {
    Ok(Raw::from_json(serde_json::value::to_raw_value(v)?))
}

/// A configured value that names a room (an id or an alias), not a placeholder.
fn names_a_room(v: &str) -> bool {
    (v.starts_with('!') && RoomId::parse(v).is_ok() && !v.contains("room-id"))
        || (v.starts_with('#') && RoomAliasId::parse(v).is_ok())
}

pub async fn run(config: &Config, prefix: &str) -> anyhow::Result<Report> {
    let m = &config.matrix;
    let client = Client::builder()
        .homeserver_url(&m.homeserver)
        .build()
        .await
        .context("building the Matrix client")?;
    let password = m.secret.expose()?;
    client
        .matrix_auth()
        .login_username(&m.user, &password)
        .initial_device_display_name("convene setup")
        .send()
        .await
        .context("logging in to Matrix as the bot")?;
    let result = place_all(&client, config, prefix).await;
    let _ = client.matrix_auth().logout().await;
    result
}

async fn place_all(client: &Client, config: &Config, prefix: &str) -> anyhow::Result<Report> {
    let server = client
        .user_id()
        .ok_or_else(|| anyhow!("not logged in"))?
        .server_name()
        .to_owned();
    let admins: Vec<OwnedUserId> = config
        .matrix
        .admins
        .iter()
        .map(|a| OwnedUserId::try_from(a.as_str()))
        .collect::<Result<_, _>>()
        .context("matrix.admins")?;
    let mut report = Report::default();
    let mut targets = vec![Target {
        what: "space".into(),
        configured: config.matrix.space.clone(),
        alias_local: prefix.to_owned(),
        name: "Working groups".into(),
        topic: "The working groups and their secretariat".into(),
        management: false,
    }];
    targets.push(Target {
        what: "management".into(),
        configured: Some(config.matrix.management_room.clone()),
        alias_local: format!("{prefix}-secretariat"),
        name: "Secretariat".into(),
        topic: "The secretariat: new applications, reports, mail for no particular group".into(),
        management: true,
    });
    for g in config.groups.iter() {
        targets.push(Target {
            what: g.slug.clone(),
            configured: Some(g.room.clone()),
            alias_local: format!("{prefix}-{}", g.slug),
            name: g.name.clone(),
            topic: format!("Working group {}", g.name),
            management: false,
        });
    }
    let mut ids = Vec::new();
    for t in &targets {
        let id = place(client, t, &server, &admins, &mut report).await?;
        ensure_power(client, &id, &admins, &mut report, &t.what).await?;
        ids.push(id.clone());
        report.rooms.push(Placed {
            what: t.what.clone(),
            room_id: id.to_string(),
        });
    }
    let space = ids[0].clone();
    let via = json!({ "via": [server.as_str()] });
    for (t, id) in targets.iter().zip(&ids).skip(1) {
        let child = json!({ "via": [server.as_str()], "suggested": !t.management });
        if ensure_state(client, &space, "m.space.child", id.as_str(), &child).await? {
            report
                .changes
                .push(format!("linked {} into the space", t.what));
        }
        let parent = json!({ "via": via["via"], "canonical": true });
        if ensure_state(client, id, "m.space.parent", space.as_str(), &parent).await? {
            report
                .changes
                .push(format!("set the space as parent of {}", t.what));
        }
    }
    Ok(report)
}

/// The room of `t`: adopted when it exists, created otherwise.
async fn place(
    client: &Client,
    t: &Target,
    server: &matrix_sdk::ruma::ServerName,
    admins: &[OwnedUserId],
    report: &mut Report,
) -> anyhow::Result<OwnedRoomId> {
    let configured = t.configured.as_deref().filter(|v| names_a_room(v));
    let alias = match configured {
        Some(v) if v.starts_with('#') => v.to_owned(),
        _ => format!("#{}:{server}", t.alias_local),
    };
    if let Some(id) = configured.filter(|v| v.starts_with('!')) {
        let id = OwnedRoomId::try_from(id)?;
        join(client, &id).await?;
        return Ok(id);
    }
    if let Ok(found) = client
        .resolve_room_alias(<&RoomAliasId>::try_from(alias.as_str())?)
        .await
    {
        join(client, &found.room_id).await?;
        return Ok(found.room_id);
    }
    let local = alias
        .strip_prefix('#')
        .and_then(|a| a.split(':').next())
        .unwrap_or(&t.alias_local)
        .to_owned();
    let mut req = CreateRoom::new();
    req.name = Some(t.name.clone());
    req.topic = Some(t.topic.clone());
    req.room_alias_name = Some(local);
    req.preset = Some(RoomPreset::PrivateChat);
    req.invite = admins.to_vec();
    let users: serde_json::Map<String, Value> =
        admins.iter().map(|a| (a.to_string(), json!(100))).collect();
    req.power_level_content_override = Some(raw(&json!({ "users": users }))?);
    if t.what == "space" {
        req.creation_content = Some(raw(&json!({ "type": "m.space" }))?);
    }
    if t.management {
        req.initial_state = vec![raw(&json!({
            "type": "m.room.encryption",
            "state_key": "",
            "content": { "algorithm": "m.megolm.v1.aes-sha2" },
        }))?];
    }
    let room = client
        .create_room(req)
        .await
        .with_context(|| format!("creating the room of {}", t.what))?;
    report.changes.push(format!(
        "created {} as {alias} ({})",
        t.what,
        room.room_id()
    ));
    Ok(room.room_id().to_owned())
}

async fn join(client: &Client, id: &RoomId) -> anyhow::Result<()> {
    let joined = client
        .get_room(id)
        .is_some_and(|r| r.state() == matrix_sdk::RoomState::Joined);
    if !joined {
        client
            .join_room_by_id(id)
            .await
            .with_context(|| format!("joining {id} (invite the bot first)"))?;
    }
    Ok(())
}

/// The content of a state event, if set.
async fn state(
    client: &Client,
    room: &RoomId,
    event_type: &str,
    key: &str,
) -> anyhow::Result<Option<Value>> {
    let req = get_state_event_for_key::v3::Request::new(
        room.to_owned(),
        StateEventType::from(event_type),
        key.to_owned(),
    );
    match client.send(req).await {
        Ok(r) => Ok(Some(serde_json::from_str(r.event_or_content.get())?)),
        Err(e)
            if e.client_api_error_kind()
                == Some(&matrix_sdk::ruma::api::error::ErrorKind::NotFound) =>
        {
            Ok(None)
        }
        Err(e) => Err(e).with_context(|| format!("reading {event_type} in {room}")),
    }
}

/// Sets a state event unless it already holds `content`'s fields; true when it was set.
async fn ensure_state(
    client: &Client,
    room: &RoomId,
    event_type: &str,
    key: &str,
    content: &Value,
) -> anyhow::Result<bool> {
    if let Some(now) = state(client, room, event_type, key).await?
        && content
            .as_object()
            .is_some_and(|want| want.iter().all(|(k, v)| &now[k] == v))
    {
        return Ok(false);
    }
    let req = send_state_event::v3::Request::new_raw(
        room.to_owned(),
        StateEventType::from(event_type),
        key.to_owned(),
        raw(content)?,
    );
    client
        .send(req)
        .await
        .with_context(|| format!("setting {event_type} in {room}"))?;
    Ok(true)
}

/// Gives each admin power level 100 in `room` (unless they have it already).
async fn ensure_power(
    client: &Client,
    room: &RoomId,
    admins: &[OwnedUserId],
    report: &mut Report,
    what: &str,
) -> anyhow::Result<()> {
    let Some(mut levels) = state(client, room, "m.room.power_levels", "").await? else {
        return Ok(());
    };
    let mut changed = false;
    for a in admins {
        if levels["users"][a.as_str()].as_i64().unwrap_or(0) < 100 {
            if !levels["users"].is_object() {
                levels["users"] = json!({});
            }
            levels["users"][a.as_str()] = json!(100);
            changed = true;
        }
    }
    if changed {
        let req = send_state_event::v3::Request::new_raw(
            room.to_owned(),
            StateEventType::RoomPowerLevels,
            String::new(),
            raw(&levels)?,
        );
        client
            .send(req)
            .await
            .with_context(|| format!("setting power levels in {room}"))?;
        report
            .changes
            .push(format!("gave the secretariat power level 100 in {what}"));
    }
    Ok(())
}

/// The configuration text with the rooms' ids written in (comments and layout kept).
pub fn write_ids(text: &str, report: &Report) -> anyhow::Result<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().context("parsing the configuration")?;
    for p in &report.rooms {
        match p.what.as_str() {
            "space" => doc["matrix"]["space"] = toml_edit::value(p.room_id.as_str()),
            "management" => doc["matrix"]["management_room"] = toml_edit::value(p.room_id.as_str()),
            slug => {
                let Some(groups) = doc
                    .get_mut("groups")
                    .and_then(|g| g.as_array_of_tables_mut())
                else {
                    continue;
                };
                for g in groups.iter_mut() {
                    if g.get("slug").and_then(|s| s.as_str()) == Some(slug) {
                        g["room"] = toml_edit::value(p.room_id.as_str());
                    }
                }
            }
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_written_into_the_config_keeping_comments() {
        let text = "# top\n[matrix]\nmanagement_room = \"#wg-secretariat:x\" # here\n\n[[groups]]\nslug = \"health\"\nroom = \"#wg-health:x\"\n";
        let report = Report {
            rooms: vec![
                Placed {
                    what: "space".into(),
                    room_id: "!s".into(),
                },
                Placed {
                    what: "management".into(),
                    room_id: "!m".into(),
                },
                Placed {
                    what: "health".into(),
                    room_id: "!h".into(),
                },
            ],
            changes: vec![],
        };
        let out = write_ids(text, &report).unwrap();
        assert!(out.starts_with("# top\n"), "{out}");
        assert!(out.contains("management_room = \"!m\""), "{out}");
        assert!(out.contains("space = \"!s\""), "{out}");
        assert!(out.contains("room = \"!h\""), "{out}");
    }

    #[test]
    fn placeholders_are_not_rooms() {
        assert!(!names_a_room("!secretariat-room-id"));
        assert!(names_a_room("#wg-health:example.org"));
        assert!(!names_a_room(""));
    }
}
