//! The calendar's handles and settings: what the stateful calendar parts (scheduler, commands,
//! proposals from mail, feeds) work with. Cron jobs are parsed here once; their errors name
//! the configuration key (`calendar.jobs[0].schedule`).

use std::path::PathBuf;
use std::sync::Arc;

use chrono::TimeDelta;
use tokio::sync::Notify;

use super::schedule::Schedule;
use crate::config::{CalendarConfig, Config, Groups, JobAction};
use crate::outbox::Outbox;
use crate::storage::Db;

/// Default of `calendar.grace_hours`.
const DEFAULT_GRACE_HOURS: u64 = 12;

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
        if !errors.is_empty() {
            anyhow::bail!(errors.join("\n"));
        }
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

/// The handles the calendar works with (cheap to clone).
#[derive(Clone)]
pub struct Service {
    pub db: Db,
    pub outbox: Outbox,
    pub s: Arc<Settings>,
    /// Wakes the scheduler when the calendar changed.
    pub wake: Arc<Notify>,
}

impl Service {
    pub fn new(db: Db, outbox: Outbox, settings: Settings) -> Service {
        Service {
            db,
            outbox,
            s: Arc::new(settings),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Loads `calendar.file` into the store (before the workers start: the mail pipeline
    /// matches applications to its calls).
    pub async fn load_file(&self) -> anyhow::Result<usize> {
        super::store::load_file(&self.db, self.s.file.as_deref()).await
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
