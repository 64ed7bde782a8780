//! The calendar's handles and settings: what the stateful calendar parts (scheduler, commands,
//! proposals from mail, feeds) work with. Cron jobs are parsed here once; their errors name
//! the configuration key (`calendar.jobs[0].schedule`).
//!
//! What the calendar reads from other domains — the e-mail addresses of a group's members
//! (the applications' accepted applicants), the raw text of an inbound mail (the bridge's) —
//! comes through [`Wiring`], small functions the composition root sets: the calendar imports
//! neither module, so the module graph stays one-way.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeDelta;
use futures_util::future::BoxFuture;
use tokio::sync::Notify;

use super::schedule::Schedule;
use crate::config::{CalendarConfig, Config, Groups, JobAction};
use crate::outbox::Outbox;
use crate::storage::Db;

/// Default of `calendar.grace_hours`.
const DEFAULT_GRACE_HOURS: u64 = 12;
/// Defaults of `calendar.watch_secs`, `calendar.proposals_per_mail` and
/// `calendar.proposals_per_sender_per_day`.
const DEFAULT_WATCH_SECS: u64 = 5;
const DEFAULT_PROPOSALS_PER_MAIL: u32 = 3;
const DEFAULT_PROPOSALS_PER_SENDER_PER_DAY: u32 = 10;

/// A cron job, parsed.
#[derive(Clone, Debug)]
pub struct Job {
    pub name: String,
    pub schedule: Schedule,
    pub action: JobAction,
}

/// The configuration the calendar reads.
#[derive(Clone, Debug)]
pub struct Settings {
    pub tz: chrono_tz::Tz,
    pub groups: Groups,
    pub management_room: String,
    pub calendar: CalendarConfig,
    pub jobs: Vec<Job>,
    /// Reminders missed while down are sent late within this, else reported.
    pub grace: TimeDelta,
    /// The public mailbox (`!apply`).
    pub mailbox_address: String,
    /// Base URL of the feeds (`!ics`), when published.
    pub feed_base: Option<String>,
    pub file: Option<PathBuf>,
    /// How often the file is checked for changes (`None`: only at start).
    pub watch: Option<Duration>,
    /// Agendas are mailed to the members this long before a meeting (`None`: on demand).
    pub agenda_before: Option<TimeDelta>,
    /// Proposals carded per mail, and per sender per day.
    pub proposals_per_mail: usize,
    pub proposals_per_sender_per_day: i64,
}

impl Settings {
    /// Parses what the configuration holds for the calendar; every error names its key.
    pub fn from_config(config: &Config) -> anyhow::Result<Settings> {
        let tz = config.tz();
        let mut errors = Vec::new();
        let mut jobs = Vec::new();
        for (i, job) in config.calendar.jobs.iter().enumerate() {
            match Schedule::parse(&job.schedule, tz) {
                Ok(schedule) => jobs.push(Job {
                    name: job.name.clone(),
                    schedule,
                    action: job.action,
                }),
                Err(e) => errors.push(format!("key `calendar.jobs[{i}].schedule`: {e:#}")),
            }
        }
        let agenda_before = match config.calendar.agenda_before.as_deref() {
            None => None,
            Some(text) => match crate::config::parse_offset(text) {
                Ok(d) if d > TimeDelta::zero() => Some(d),
                Ok(_) => {
                    errors.push("key `calendar.agenda_before`: must be more than 0".into());
                    None
                }
                Err(e) => {
                    errors.push(format!("key `calendar.agenda_before`: {e:#}"));
                    None
                }
            },
        };
        if !errors.is_empty() {
            anyhow::bail!(errors.join("\n"));
        }
        let watch = match config.calendar.watch_secs.unwrap_or(DEFAULT_WATCH_SECS) {
            0 => None,
            secs => Some(Duration::from_secs(secs)),
        };
        let hours = config.calendar.grace_hours.unwrap_or(DEFAULT_GRACE_HOURS);
        // At most ten years: more means "always send late" and must not overflow.
        let grace = TimeDelta::hours(i64::try_from(hours.min(24 * 3_660)).unwrap_or(24 * 3_660));
        let feed_base = match (&config.calendar.public_url, &config.http.listen) {
            (Some(url), _) => Some(url.trim_end_matches('/').to_owned()),
            (None, Some(listen)) => Some(format!("http://{listen}")),
            (None, None) => None,
        };
        Ok(Settings {
            tz,
            groups: config.groups.clone(),
            management_room: config.matrix.management_room.clone(),
            calendar: config.calendar.clone(),
            jobs,
            grace,
            mailbox_address: config.mailbox.address.clone(),
            feed_base,
            file: config.calendar.file.clone(),
            watch,
            agenda_before,
            proposals_per_mail: config
                .calendar
                .proposals_per_mail
                .unwrap_or(DEFAULT_PROPOSALS_PER_MAIL) as usize,
            proposals_per_sender_per_day: i64::from(
                config
                    .calendar
                    .proposals_per_sender_per_day
                    .unwrap_or(DEFAULT_PROPOSALS_PER_SENDER_PER_DAY),
            ),
        })
    }
}

/// What `check-config` asks of the calendar: the jobs parse, and so does the calendar file.
pub fn check(config: &Config) -> anyhow::Result<()> {
    Settings::from_config(config)?;
    if let Some(path) = &config.calendar.file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("key `calendar.file`: reading {}: {e}", path.display()))?;
        super::file::parse(&text)
            .map_err(|e| anyhow::anyhow!("key `calendar.file`: {}: {e}", path.display()))?;
    }
    Ok(())
}

/// An asynchronous look-up into another domain, set by the composition root.
pub type Lookup<A, T> = Arc<dyn Fn(A) -> BoxFuture<'static, anyhow::Result<T>> + Send + Sync>;

/// What the calendar reads from other domains (see the module docs). Unset look-ups read as
/// nothing: no members to mail, no sender known.
#[derive(Clone, Default)]
pub struct Wiring {
    /// The e-mail addresses of the members of a group, by slug.
    pub members: Option<Lookup<String, Vec<String>>>,
    /// The raw message of inbound mail `id`, to read its sender (the proposals' daily cap).
    pub inbound_raw: Option<Lookup<i64, Option<Vec<u8>>>>,
}

/// The calendar file as last read: modification time and length.
pub type FileStamp = (std::time::SystemTime, u64);

/// The handles the calendar works with (cheap to clone).
#[derive(Clone)]
pub struct Service {
    pub db: Db,
    pub outbox: Outbox,
    pub s: Arc<Settings>,
    /// Wakes the scheduler when the calendar changed.
    pub wake: Arc<Notify>,
    pub wiring: Wiring,
    /// The calendar file as last loaded, so the scheduler can tell when it changed.
    pub file_stamp: Arc<Mutex<Option<FileStamp>>>,
}

impl Service {
    pub fn new(db: Db, outbox: Outbox, settings: Settings) -> Service {
        Service {
            db,
            outbox,
            s: Arc::new(settings),
            wake: Arc::new(Notify::new()),
            wiring: Wiring::default(),
            file_stamp: Arc::new(Mutex::new(None)),
        }
    }

    /// The same service, reading other domains through `wiring`.
    pub fn wired(mut self, wiring: Wiring) -> Service {
        self.wiring = wiring;
        self
    }

    /// Loads `calendar.file` into the store, telling people of what changed in it since it
    /// was last loaded (before the workers start: the mail pipeline matches applications to
    /// its calls). Returns how many items were added, changed or removed.
    pub async fn load_file(&self) -> anyhow::Result<usize> {
        super::changes::load_file(self).await
    }

    /// The e-mail addresses of the members of the groups `slugs` (every group when empty),
    /// without duplicates.
    pub async fn member_emails(&self, slugs: &[String]) -> anyhow::Result<Vec<String>> {
        let Some(members) = &self.wiring.members else {
            return Ok(Vec::new());
        };
        let all: Vec<String> = if slugs.is_empty() {
            self.s.groups.slugs().map(str::to_owned).collect()
        } else {
            slugs.to_vec()
        };
        let mut out: Vec<String> = Vec::new();
        for slug in all {
            for email in members(slug).await? {
                if !out.iter().any(|e| e.eq_ignore_ascii_case(&email)) {
                    out.push(email);
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_schedule_names_its_key() {
        let text = format!(
            "{}\n[[calendar.jobs]]\nname = \"x\"\nschedule = \"every tuesday\"\naction = \"digest\"\n",
            crate::config::EXAMPLE
        );
        let c = Config::from_toml(&text, Vec::new()).unwrap();
        let err = format!("{:#}", Settings::from_config(&c).unwrap_err());
        assert!(err.contains("calendar.jobs[2].schedule"), "{err}");
        let ok =
            Settings::from_config(&Config::from_toml(crate::config::EXAMPLE, Vec::new()).unwrap())
                .unwrap();
        assert_eq!(ok.jobs.len(), 2);
        assert_eq!(ok.grace, TimeDelta::hours(12));
        assert_eq!(ok.feed_base.as_deref(), Some("http://127.0.0.1:8080"));
    }
}
