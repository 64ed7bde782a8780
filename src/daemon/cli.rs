//! The command line: `run`, `check-config`, `print-config`, `migrate`, `command`, `outbox`,
//! and the domains' own subcommands (`eoi`, `calendar`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::{self, Config};

#[derive(Debug, Parser)]
#[command(
    name = "convene",
    version,
    about = "Working-groups secretariat: one mailbox, one Matrix space"
)]
pub struct Cli {
    /// Configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "CONVENE_CONFIG",
        default_value = "/etc/convene/convene.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run the daemon (until SIGTERM or SIGINT).
    Run,
    /// Check the configuration and name every offending key.
    CheckConfig,
    /// Print the annotated example configuration.
    PrintConfig,
    /// Apply database migrations and exit.
    Migrate,
    /// Run a chat command as the secretariat and print the reply.
    Command {
        /// The command text, e.g. "!help".
        text: String,
        /// Answer as if asked in this group's room.
        #[arg(long)]
        group: Option<String>,
    },
    /// Expressions of interest: parse a mail, export applications.
    Eoi {
        #[command(subcommand)]
        cmd: crate::applications::cli::EoiCmd,
    },
    /// The calendar: preview a cron schedule, export or import iCalendar.
    Calendar {
        #[command(subcommand)]
        cmd: crate::calendar::cli::CalendarCmd,
    },
    /// Create or adopt the space, the management room and the group rooms (safe to rerun).
    Setup {
        /// Aliases of created rooms: `#PREFIX:server`, `#PREFIX-secretariat:…`, `#PREFIX-<slug>:…`.
        #[arg(long, default_value = "wg")]
        alias_prefix: String,
        /// Write the room ids into the configuration file.
        #[arg(long)]
        write: bool,
    },
    /// The audit trail: who did what, when (oldest first).
    Audit {
        /// Only entries from this date (`2026-05-01`) or instant (RFC 3339) on.
        #[arg(long)]
        since: Option<String>,
        /// At most this many (the newest).
        #[arg(long, default_value_t = 1000)]
        limit: i64,
    },
    /// Back up the database (SQLite, online) and the Matrix session and stores into DEST.
    Backup {
        /// A new (or empty) directory.
        dest: PathBuf,
    },
    /// Put a backup back (the daemon must be stopped).
    Restore {
        src: PathBuf,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Data protection: export or erase everything held about a mail address.
    Privacy {
        #[command(subcommand)]
        cmd: PrivacyCmd,
    },
    /// What is waiting to be sent or failed; requeue failed items.
    Outbox {
        #[command(subcommand)]
        cmd: OutboxCmd,
    },
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCmd {
    /// Print, as JSON, everything held about ADDRESS (GDPR Art. 15).
    Export { address: String },
    /// Erase everything held about ADDRESS and redact the bot's posts about it (Art. 17).
    Erase {
        address: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// Pending and failed items, newest first.
    List {
        /// Only the failed ones.
        #[arg(long)]
        failed: bool,
    },
    /// Requeue one failed item (its id) or all of them (`--failed`); the daemon sends them.
    Retry {
        id: Option<i64>,
        #[arg(long, conflicts_with = "id")]
        failed: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::PrintConfig => {
            print!("{}", config::EXAMPLE);
            return ExitCode::SUCCESS;
        }
        Cmd::CheckConfig => {
            return match Config::load(&cli.config)
                .and_then(|c| crate::calendar::check(&c).map(|()| c))
            {
                Ok(c) => {
                    println!(
                        "{}: OK ({} groups, database {})",
                        cli.config.display(),
                        c.groups.len(),
                        db_kind(&c)
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{}: {e:#}", cli.config.display());
                    ExitCode::from(2)
                }
            };
        }
        Cmd::Calendar {
            cmd:
                crate::calendar::cli::CalendarCmd::Preview {
                    expr,
                    from,
                    count,
                    tz,
                },
        } => {
            // An admin checks a schedule before deploying it: no config file needed.
            let tz = match tz {
                Some(t) => t.parse().ok(),
                None => Config::load(&cli.config)
                    .ok()
                    .map(|c| c.tz())
                    .or(Some(chrono_tz::Europe::Brussels)),
            };
            let Some(tz) = tz else {
                eprintln!("convene: --tz is not an IANA time zone");
                return ExitCode::from(2);
            };
            return match crate::calendar::cli::preview(&expr, from.as_deref(), count, tz) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("convene: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        _ => {}
    }
    let config = match Config::load(&cli.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("convene: {e:#}");
            return ExitCode::from(2);
        }
    };
    init_tracing(&config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("convene: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(dispatch(cli.command, config, cli.config.clone())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("convene: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn db_kind(c: &Config) -> &'static str {
    match c.database.url.as_ref().map(|u| u.expose()) {
        Some(Ok(u)) if u.starts_with("postgres") => "postgres",
        _ => "sqlite",
    }
}

async fn dispatch(cmd: Cmd, config: Config, config_path: std::path::PathBuf) -> anyhow::Result<()> {
    match cmd {
        Cmd::Run => {
            crate::calendar::check(&config)?;
            super::run(config, super::shutdown_signal()).await
        }
        Cmd::Migrate => {
            std::fs::create_dir_all(&config.state_dir).ok();
            let db = crate::storage::Db::connect(&config.database_url()?, 1).await?;
            println!("migrations applied ({:?})", db.backend);
            Ok(())
        }
        Cmd::Command { text, group } => {
            if let Some(g) = &group {
                config
                    .group(g)
                    .with_context(|| format!("no group `{g}` in the configuration"))?;
            }
            let parts = super::Parts::build(&config).await?;
            // As the daemon does at start: commands answer from the calendar file too.
            if let Err(e) = parts.calendar.load_file().await {
                eprintln!("convene: warning: {e:#}");
            }
            let actor = crate::audit::cli_actor();
            let inv = crate::chat::Invocation {
                text: text.trim(),
                sender: &actor,
                group: group.as_deref(),
                is_admin: true,
                in_management_room: group.is_none(),
                event_id: None,
                thread_root: None,
                context: crate::chat::Context::default(),
            };
            match parts.commands.execute(&inv).await? {
                Some(reply) => println!("{}", reply.markdown),
                None => anyhow::bail!(
                    "not a command (commands start with `{}`)",
                    parts.commands.prefix()
                ),
            }
            Ok(())
        }
        Cmd::Outbox { cmd } => {
            let parts = super::Parts::build(&config).await?;
            let db = parts.outbox.db();
            match cmd {
                OutboxCmd::List { failed } => {
                    let items = crate::outbox::queue::list(db, failed, 1000).await?;
                    println!("{}", crate::commands::render_outbox(&items, failed));
                }
                OutboxCmd::Retry { id, failed } => {
                    if id.is_none() && !failed {
                        anyhow::bail!("name an item (`convene outbox retry 12`) or `--failed`");
                    }
                    let requeued = crate::outbox::queue::retry(db, id).await?;
                    let actor = crate::audit::cli_actor();
                    for (n, t) in &requeued {
                        let target = format!("outbox #{n}");
                        crate::audit::record(
                            &db.pool,
                            &actor,
                            "outbox.retry",
                            &target,
                            Some(t.as_str()),
                        )
                        .await?;
                    }
                    let n = requeued.len();
                    println!("requeued {n} item(s); the running daemon sends them");
                }
            }
            Ok(())
        }
        Cmd::Setup {
            alias_prefix,
            write,
        } => {
            let report = crate::matrix::setup::run(&config, &alias_prefix).await?;
            for change in &report.changes {
                println!("{change}");
            }
            if report.changes.is_empty() {
                println!("everything was in place: no changes");
            }
            for p in &report.rooms {
                println!("{} = \"{}\"", p.what, p.room_id);
            }
            if write {
                let text = std::fs::read_to_string(&config_path)?;
                let new = crate::matrix::setup::write_ids(&text, &report)?;
                if new != text {
                    std::fs::write(&config_path, new)?;
                    println!("room ids written into {}", config_path.display());
                }
            }
            if !report.changes.is_empty() {
                let db = crate::storage::Db::connect(&config.database_url()?, 1).await?;
                let detail = format!("{} change(s)", report.changes.len());
                crate::audit::record(
                    &db.pool,
                    &crate::audit::cli_actor(),
                    "setup",
                    "the space and its rooms",
                    Some(&detail),
                )
                .await?;
            }
            Ok(())
        }
        Cmd::Audit { since, limit } => {
            let since = since.as_deref().map(parse_since).transpose()?;
            let db = crate::storage::Db::connect(&config.database_url()?, 1).await?;
            let entries = crate::audit::list(&db, since, limit).await?;
            if entries.is_empty() {
                println!("(no audit entries)");
            } else {
                println!("{}", crate::audit::render_plain(&entries));
            }
            Ok(())
        }
        Cmd::Backup { dest } => {
            let url = config.database_url()?;
            let db = crate::storage::Db::connect(&url, 1).await?;
            let m =
                crate::storage::backup::backup(&url, db.backend, &config.state_dir, &dest).await?;
            let target = dest.display().to_string();
            crate::audit::record(
                &db.pool,
                &crate::audit::cli_actor(),
                "backup",
                &target,
                None,
            )
            .await?;
            println!("backed up into {target}");
            if m.backend == "postgres" {
                println!(
                    "the database is PostgreSQL: back it up with pg_dump (see the README);                      this backup holds the Matrix session and stores"
                );
            }
            Ok(())
        }
        Cmd::Restore { src, yes } => {
            let lock = crate::storage::backup::DaemonLock::take(&config.state_dir)?;
            if !yes
                && !confirm(&format!(
                    "Replace the database and the Matrix state of {} with the backup in {}?",
                    config.state_dir.display(),
                    src.display()
                ))?
            {
                anyhow::bail!("not restored");
            }
            let url = config.database_url()?;
            let backend = if url.starts_with("sqlite:") {
                crate::storage::Backend::Sqlite
            } else {
                crate::storage::Backend::Postgres
            };
            let m = crate::storage::backup::restore(&url, backend, &config.state_dir, &src, &lock)
                .await?;
            drop(lock);
            let db = crate::storage::Db::connect(&url, 1).await?;
            let target = src.display().to_string();
            let detail = format!("backup of {}", m.created_at);
            crate::audit::record(
                &db.pool,
                &crate::audit::cli_actor(),
                "restore",
                &target,
                Some(&detail),
            )
            .await?;
            println!("restored the backup of {} from {target}", m.created_at);
            if m.backend == "postgres" {
                println!("the database is PostgreSQL: restore it with pg_restore (see the README)");
            }
            Ok(())
        }
        Cmd::Privacy { cmd } => {
            let parts = super::Parts::build(&config).await?;
            let actor = crate::audit::cli_actor();
            match cmd {
                PrivacyCmd::Export { address } => {
                    let json = crate::privacy::export(&parts.db, &address).await?;
                    let n = json["applications"].as_array().map_or(0, Vec::len);
                    crate::audit::record(
                        &parts.db.pool,
                        &actor,
                        "privacy.export",
                        "an address",
                        Some(&format!("{n} application(s)")),
                    )
                    .await?;
                    println!("{}", serde_json::to_string_pretty(&json)?);
                }
                PrivacyCmd::Erase { address, yes } => {
                    let address = crate::privacy::normalise(&address)?;
                    if !yes {
                        let held = crate::privacy::find(&parts.db, Some(&address), &[]).await?;
                        let q = format!(
                            "Erase {} application(s), {} mail(s) and the bot's posts about {address}? This cannot be undone.",
                            held.eois.len(),
                            held.mails.len()
                        );
                        if !confirm(&q)? {
                            anyhow::bail!("nothing erased");
                        }
                    }
                    let e = crate::privacy::erase(&parts.outbox, &address, &actor).await?;
                    println!(
                        "erased: {}; the running daemon redacts the room events",
                        e.summary()
                    );
                }
            }
            Ok(())
        }
        Cmd::Eoi { cmd } => crate::applications::cli::run(cmd, config).await,
        Cmd::Calendar { cmd } => crate::calendar::cli::run(cmd, config).await,
        Cmd::CheckConfig | Cmd::PrintConfig => Ok(()),
    }
}

/// Asks on the terminal; true for `y` or `yes`.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    use std::io::Write;
    eprint!("{question} [y/N] ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes"))
}

/// `2026-05-01` (midnight UTC) or an RFC 3339 instant, as Unix milliseconds.
fn parse_since(text: &str) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_millis());
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").with_context(|| {
        format!("--since {text:?}: not a date (2026-05-01) or RFC 3339 instant")
    })?;
    Ok(day
        .and_time(chrono::NaiveTime::MIN)
        .and_utc()
        .timestamp_millis())
}

fn init_tracing(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(default))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}
