//! Configuration: the TOML file, environment overrides, secrets, and the check that names
//! the offending key.
//!
//! Loading order: the file (`--config`, default `/etc/convene/convene.toml`), then every
//! environment variable `CONVENE__SECTION__KEY=value` (case-insensitive; array elements by
//! index, e.g. `CONVENE__GROUPS__0__ROOM`; the value is read as a TOML value when it parses
//! as one, else as a string), then serde with unknown keys rejected, then [`Config::validate`].
//! The annotated example is `config/example.toml`, embedded for `convene print-config`.

mod bridge;
mod check;
mod defaults;
mod env;
mod offsets;
mod secret;
mod types;

use defaults::*;
use env::apply_override;

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use serde::Deserialize;

pub use bridge::{BridgeConfig, GroupRoom};
pub use offsets::{Offsets, format_offset, parse_offset};
pub use secret::Secret;
pub use types::{Groups, JobAction, MailboxAddr};

/// The annotated example configuration, as shipped in `config/example.toml`.
pub const EXAMPLE: &str = include_str!("../../config/example.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where convene keeps its SQLite database, Matrix session and stores.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// IANA time zone in which dates are shown and cron schedules run.
    #[serde(
        default = "default_timezone",
        deserialize_with = "types::deserialize_tz"
    )]
    pub timezone: chrono_tz::Tz,
    /// `tracing` filter, e.g. `info` or `convene=debug,info`; `RUST_LOG` wins when set.
    #[serde(default = "default_log")]
    pub log: String,
    pub matrix: MatrixConfig,
    pub mailbox: MailboxConfig,
    pub smtp: SmtpConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub groups: Groups,
    #[serde(default)]
    pub calendar: CalendarConfig,
    #[serde(default)]
    pub applications: ApplicationsConfig,
    #[serde(default)]
    pub outbox: OutboxConfig,
    #[serde(default)]
    pub bridge: BridgeConfig,
    #[serde(default)]
    pub privacy: PrivacyConfig,
}

/// Data protection: retention of records per status, and what cards show.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrivacyConfig {
    /// Records in a status are erased (records, history, attachments, mails; their room
    /// events redacted) this long after their last change: `{ declined = "180d" }`.
    #[serde(deserialize_with = "retention_map")]
    pub retention: std::collections::BTreeMap<String, chrono::TimeDelta>,
    /// How often the purge runs.
    #[serde(with = "duration_text")]
    pub purge_every: chrono::TimeDelta,
    /// Cards show the name, the group and the status only; `!eoi show` has the rest.
    pub minimal_cards: bool,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig {
            retention: Default::default(),
            purge_every: chrono::TimeDelta::days(1),
            minimal_cards: false,
        }
    }
}

fn retention_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<String, chrono::TimeDelta>, D::Error> {
    let raw = std::collections::BTreeMap::<String, String>::deserialize(d)?;
    raw.into_iter()
        .map(|(k, v)| {
            parse_offset(&v)
                .map(|t| (k.clone(), t))
                .map_err(|e| serde::de::Error::custom(format!("`{k}`: {e}")))
        })
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// Base URL of the homeserver's client API.
    pub homeserver: String,
    /// Full user id of the bot, `@convene:example.org`.
    pub user: String,
    /// Password used once to log in (the session is then persisted and reused).
    pub secret: Secret,
    #[serde(default = "default_device_name")]
    pub device_name: String,
    /// Passphrase of the encrypted local Matrix store (state and crypto). Optional.
    pub store_passphrase: Option<Secret>,
    /// The secretariat's room: new EoIs, quarantine reports, mail with no group.
    pub management_room: String,
    /// The space holding the group rooms (informational for now).
    pub space: Option<String>,
    /// The secretariat: user ids allowed to run secretariat commands and to invite the bot.
    #[serde(default)]
    pub admins: Vec<String>,
    /// Commands start with this prefix.
    #[serde(default = "default_prefix")]
    pub command_prefix: String,
    /// Members of the management room at or above this power level are of the secretariat
    /// too, besides `admins`; so are the room's creators in room versions where creators
    /// outrank every power level (version 12 and later).
    #[serde(default = "default_secretariat_power_level")]
    pub secretariat_power_level: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain connection upgraded with STARTTLS (IMAP 143, submission 587).
    Starttls,
    /// No TLS. Refused unless the host is a loopback address.
    Plain,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    pub host: String,
    #[serde(default = "default_imap_port")]
    pub port: u16,
    #[serde(default = "default_tls")]
    pub tls: TlsMode,
    /// Extra CA certificate (PEM) to trust, e.g. a self-signed server.
    pub ca_file: Option<PathBuf>,
    pub user: String,
    pub secret: Secret,
    #[serde(default = "default_folder")]
    pub folder: String,
    /// The functional mailbox's public address (`working-groups@example.org`).
    pub address: String,
    /// On the very first start, also handle the mail already in the folder (default: only
    /// mail arriving from then on).
    #[serde(default)]
    pub import_existing: bool,
    /// Use IMAP IDLE when the server offers it.
    #[serde(default = "yes")]
    pub idle: bool,
    /// Re-issue IDLE after this many seconds (RFC 2177 servers may drop after 30 min), with a
    /// NOOP in between: this also bounds how long a silently dead connection goes unnoticed.
    #[serde(default = "default_idle_refresh")]
    pub idle_refresh_secs: u64,
    /// Poll interval when IDLE is off or unsupported.
    #[serde(default = "default_poll")]
    pub poll_secs: u64,
    /// Mails larger than this are not downloaded; their headers go to quarantine.
    #[serde(default = "default_max_message")]
    pub max_message_bytes: u64,
    /// Every IMAP command (and the wait for its answer) is given up after this many seconds,
    /// so a half-open connection is noticed and reconnected.
    #[serde(default = "default_imap_timeout")]
    pub timeout_secs: u64,
    /// The authserv-ids of our own receiving servers: only their `Authentication-Results`
    /// headers count (the topmost one); all others are written by whoever sent the mail.
    /// Empty: no sender is verified. `""` trusts a header without one (Microsoft 365).
    #[serde(default)]
    pub authserv_id: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default = "default_smtp_tls")]
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    pub user: Option<String>,
    pub secret: Option<Secret>,
    /// From header of outgoing mail, `Secretariat <working-groups@example.org>`.
    pub from: MailboxAddr,
    /// No longer used: transient failures are retried for `outbox.retry_for` instead of a
    /// fixed number of attempts. Accepted (with a warning) so older configurations still load.
    pub max_attempts: Option<u32>,
}

/// How the outbox retries (both transports: Matrix and SMTP).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Transient failures (server down, rate limited, SMTP 4xx, Matrix 5xx) are retried for
    /// this long after the item was queued, as a mail server keeps its queue; then the item
    /// is failed and reported. Permanent failures are failed at once.
    #[serde(with = "duration_text")]
    pub retry_for: chrono::TimeDelta,
    /// The first retry waits this long; each next one twice as long …
    #[serde(with = "duration_text")]
    pub retry_min: chrono::TimeDelta,
    /// … up to this.
    #[serde(with = "duration_text")]
    pub retry_max: chrono::TimeDelta,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            retry_for: chrono::TimeDelta::days(5),
            retry_min: chrono::TimeDelta::seconds(2),
            retry_max: chrono::TimeDelta::minutes(15),
        }
    }
}

/// A duration written as `"5d"`, `"15m"`, `"1d12h"` (see [`parse_offset`]).
mod duration_text {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<chrono::TimeDelta, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_offset(&text).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:///path/convene.db` or `postgres://user@host/db`. Default: SQLite in state_dir.
    pub url: Option<Secret>,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// `127.0.0.1:8080`. Unset: no HTTP listener.
    pub listen: Option<String>,
    /// `/readyz` still counts IMAP as up this many seconds after its connection was lost
    /// (the worker reconnects within a few seconds after a server restart).
    #[serde(default = "default_imap_grace")]
    pub imap_grace_secs: u64,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: None,
            imap_grace_secs: default_imap_grace(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupConfig {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub room: String,
    /// Addresses of this group (aliases of the mailbox): mail to one of them in To/Cc goes
    /// to this group's room.
    #[serde(default)]
    pub addresses: Vec<String>,
    #[serde(default)]
    pub cadence: CadenceConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CadenceConfig {
    #[serde(default = "three")]
    pub min_meetings: u32,
    #[serde(default = "two")]
    pub min_online: u32,
    #[serde(default = "one")]
    pub min_physical_brussels: u32,
}

impl Default for CadenceConfig {
    fn default() -> Self {
        CadenceConfig {
            min_meetings: 3,
            min_online: 2,
            min_physical_brussels: 1,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    /// A calendar file (TOML) loaded at start; see `config/calendar.example.toml`.
    pub file: Option<PathBuf>,
    /// Reminders that fell due while convene was down are sent late within this many hours.
    pub grace_hours: Option<u64>,
    #[serde(default)]
    pub jobs: Vec<CronJob>,
    /// How long before each kind of item to remind (`meeting = ["14d", "7d", "1d", "1h"]`).
    #[serde(default)]
    pub offsets: Offsets,
    /// The secretariat's addresses: meeting reminders are mailed there with an invitation.
    #[serde(default)]
    pub secretariat_email: Vec<String>,
    /// Externally visible base URL of the HTTP listener, for `!ics` (default: `http.listen`).
    pub public_url: Option<String>,
    /// The calendar file is checked for changes this often, in seconds, and reloaded (people
    /// are told of moved and cancelled meetings). Default 5; 0: read at start only.
    pub watch_secs: Option<u64>,
    /// Mail each meeting's agenda, with the invitation, to its groups' members this long
    /// before it (`"7d"`). Unset: only when asked (`!meeting send`).
    pub agenda_before: Option<String>,
    /// At most this many proposals are carded per mail (default 3) …
    pub proposals_per_mail: Option<u32>,
    /// … and per sender and day (default 10).
    pub proposals_per_sender_per_day: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CronJob {
    pub name: String,
    /// Cron expression in local time (5 or 6 fields).
    pub schedule: String,
    /// `digest` or `cadence`.
    pub action: JobAction,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApplicationsConfig {
    /// Folder of editable mail templates; built-in templates when unset.
    pub templates: Option<PathBuf>,
    /// The open call every EoI is recorded under (one record per applicant per call).
    pub call: String,
    /// Attachments larger than this are recorded (name, type, size) without their content.
    pub max_attachment_bytes: u64,
    /// At most one acknowledgement per sender in this period, unless the application changed.
    pub ack_period_hours: u64,
    /// A group's core team: at most this many members (leaders included) …
    pub max_members: u32,
    /// … and this many leaders.
    pub max_leaders: u32,
    /// What a group's room sees of an application mailed to its address: `none`, `notice`
    /// (one line, no contact data; default) or `full`.
    pub group_room: GroupRoom,
    /// Acknowledge senders our server did not verify (no aligned SPF/DKIM/DMARC pass).
    pub ack_unverified: bool,
    /// At most this many automatic replies to one address in 24 hours …
    pub replies_per_address_per_day: u32,
    /// … and this many to all addresses together in an hour; past either, the reply is
    /// recorded as suppressed and the management room told once.
    pub replies_per_hour: u32,
    /// The reaction on an application's card that accepts it (from the secretariat) …
    pub accept_reaction: String,
    /// … and the one that declines it. No other reaction decides anything.
    pub decline_reaction: String,
    /// Allow `!eoi export` to upload the CSV of every applicant into an unencrypted room.
    pub export_unencrypted: bool,
}

impl Default for ApplicationsConfig {
    fn default() -> Self {
        ApplicationsConfig {
            templates: None,
            call: "default".into(),
            max_attachment_bytes: 10 * 1024 * 1024,
            ack_period_hours: 24,
            max_members: 20,
            max_leaders: 2,
            group_room: GroupRoom::Notice,
            ack_unverified: true,
            replies_per_address_per_day: 3,
            replies_per_hour: 100,
            accept_reaction: "✅".into(),
            decline_reaction: "❌".into(),
            export_unencrypted: false,
        }
    }
}

impl Config {
    /// Reads the file, applies `CONVENE__*` overrides from the process environment, checks.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        Self::from_toml(&text, std::env::vars())
            .with_context(|| format!("in config file {}", path.display()))
    }

    /// Parses TOML text with the given environment overrides, then validates.
    pub fn from_toml(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut value: toml::Value = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
        for (key, raw) in env {
            let Some(rest) = key.strip_prefix("CONVENE__") else {
                continue;
            };
            let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
            apply_override(&mut value, &path, &raw)
                .with_context(|| format!("environment variable {key}"))?;
        }
        let config: Config = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            anyhow!("key `{path}`: {}", e.into_inner())
        })?;
        config.validate()?;
        Ok(config)
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone
    }

    /// The database URL: configured, else a SQLite file in the state directory. A SQLite
    /// URL without a `mode=` gets `mode=rwc`, so the file is created on first start whether
    /// the URL was written by the user or is the default.
    pub fn database_url(&self) -> anyhow::Result<String> {
        let url = match &self.database.url {
            Some(s) => s.expose()?,
            None => format!("sqlite://{}", self.state_dir.join("convene.db").display()),
        };
        Ok(sqlite_create_mode(url))
    }

    pub fn group(&self, slug: &str) -> Option<&GroupConfig> {
        self.groups.get(slug)
    }

    /// The group whose room this is, if any.
    pub fn group_by_room(&self, room: &str) -> Option<&GroupConfig> {
        self.groups.by_room(room)
    }

    /// The management room and every group room, as configured.
    pub fn configured_rooms(&self) -> Vec<String> {
        let mut rooms = vec![self.matrix.management_room.clone()];
        rooms.extend(self.groups.iter().map(|g| g.room.clone()));
        rooms
    }

    pub fn is_admin(&self, user: &str) -> bool {
        self.matrix.admins.iter().any(|a| a == user)
    }
}

/// Adds `mode=rwc` to a SQLite URL that names no mode (other URLs are returned as given).
fn sqlite_create_mode(url: String) -> String {
    if !url.starts_with("sqlite:") || url.contains("mode=") {
        return url;
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}mode=rwc")
}

#[cfg(test)]
mod tests;
