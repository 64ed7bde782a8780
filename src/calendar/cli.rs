//! `convene calendar …` subcommands: preview a cron schedule (no database needed), export the
//! calendar as iCalendar, import an `.ics` file into the store.
//!
//! Both export (which loads the calendar file first) and import write through
//! [`changes`](super::changes): a meeting they move or cancel is announced as it would be by
//! the daemon — queued in the outbox, which the running daemon sends.

use anyhow::Context as _;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use clap::Subcommand;

use super::{Service, Settings, changes, datespec, ics, schedule, store};
use crate::config::Config;
use crate::outbox::Outbox;
use crate::storage::Db;

#[derive(Debug, Subcommand)]
pub enum CalendarCmd {
    /// Prints the next firing instants of a cron expression, in local time with UTC offsets.
    Preview {
        /// 5 fields (minute hour day month weekday), or 6 with seconds first.
        expr: String,
        /// Start from this local date or date-time (YYYY-MM-DD or YYYY-MM-DDTHH:MM); default now.
        #[arg(long)]
        from: Option<String>,
        #[arg(long, default_value_t = 10)]
        count: usize,
        /// Time zone of the schedule (default: the config's `timezone`, else Europe/Brussels).
        #[arg(long)]
        tz: Option<String>,
    },
    /// Prints the calendar (the file and everything added since) as iCalendar.
    Export {
        /// Only the items of this group.
        #[arg(long)]
        group: Option<String>,
    },
    /// Stores the events of an .ics file as calendar items (source `import`).
    Import { file: std::path::PathBuf },
}

/// `convene calendar preview`: needs no database, and no configuration when `--tz` is given.
pub fn preview(
    expr: &str,
    from: Option<&str>,
    count: usize,
    tz: chrono_tz::Tz,
) -> anyhow::Result<()> {
    let from = match from {
        Some(f) => parse_from(f, tz)?,
        None => Utc::now(),
    };
    for line in schedule::preview(expr, tz, from, count)? {
        println!("{line}");
    }
    Ok(())
}

pub async fn run(cmd: CalendarCmd, config: Config) -> anyhow::Result<()> {
    let tz = config.tz();
    match cmd {
        CalendarCmd::Preview {
            expr,
            from,
            count,
            tz: named,
        } => {
            let tz = match named {
                Some(n) => n
                    .parse()
                    .map_err(|_| anyhow::anyhow!("--tz: `{n}` is not an IANA time zone"))?,
                None => tz,
            };
            preview(&expr, from.as_deref(), count, tz)
        }
        CalendarCmd::Export { group } => {
            let name = match &group {
                Some(g) => Some(
                    config
                        .group(g)
                        .with_context(|| format!("no group `{g}` in the configuration"))?
                        .name
                        .clone(),
                ),
                None => None,
            };
            let svc = service(&config).await?;
            svc.load_file().await?;
            let snap = store::load(&svc.db).await?;
            let g = group.as_deref().zip(name.as_deref());
            print!("{}", super::http::export(&snap, g, tz));
            Ok(())
        }
        CalendarCmd::Import { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let items = ics::import_ics(&text, tz)?;
            let svc = service(&config).await?;
            let changed = changes::import(&svc, &items).await?;
            println!(
                "{} events read, {changed} items added or changed",
                items.len()
            );
            Ok(())
        }
    }
}

async fn service(config: &Config) -> anyhow::Result<Service> {
    std::fs::create_dir_all(&config.state_dir).ok();
    let db = Db::connect(&config.database_url()?, config.database.max_connections).await?;
    let outbox = Outbox::new(
        db.clone(),
        config.smtp.from.clone(),
        &config.matrix.management_room,
    )
    .await?;
    Ok(Service::new(db, outbox, Settings::from_config(config)?))
}

/// `2026-03-29` (midnight) or `2026-03-29T02:30`, local time in `tz`.
pub fn parse_from(text: &str, tz: chrono_tz::Tz) -> anyhow::Result<chrono::DateTime<Utc>> {
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_time(Default::default()))
        })
        .with_context(|| format!("--from {text:?}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM"))?;
    Ok(datespec::resolve_local(tz, local).to_utc())
}
