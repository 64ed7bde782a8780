//! The composition root: builds every part from the configuration, names the workers, starts
//! them under one cancellation token, tells systemd it is ready, and stops them gracefully.
//! The command line ([`cli`]) lives here too. Nothing else imports this module.
//!
//! Workers: `matrix-sync`, `lease`, `http` (when `http.listen` is set) in every process;
//! `matrix-outbox`, `pipeline`, `imap`, `smtp-outbox`, `scheduler` and `purge` (retention)
//! only while this process holds the leader's lease (always with SQLite; with PostgreSQL a
//! second process with the same configuration stands by, see [`crate::lease`]);
//! [`supervise`] restarts them.

pub mod cli;
pub mod supervise;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::applications::Applications;
use crate::bridge::imap::Imap;
use crate::bridge::pipeline::Pipeline;
use crate::bridge::smtp::Smtp;
use crate::bridge::thread::Threads;
use crate::commands::Commands;
use crate::config::Config;
use crate::health::Health;
use crate::mail::route::Routing;
use crate::matrix::sync::Bot;
use crate::matrix::transport::MatrixTransport;
use crate::outbox::runner::{self, Policy};
use crate::outbox::{Key, Outbox};
use crate::storage::Db;

/// Everything that works without Matrix (the CLI uses these too).
pub struct Parts {
    pub db: Db,
    pub outbox: Outbox,
    pub apps: Applications,
    pub calendar: crate::calendar::Service,
    pub commands: Commands,
}

impl Parts {
    pub async fn build(config: &Config) -> anyhow::Result<Parts> {
        std::fs::create_dir_all(&config.state_dir).ok();
        let db = Db::connect(&config.database_url()?, config.database.max_connections).await?;
        let outbox = Outbox::new(
            db.clone(),
            config.smtp.from.clone(),
            &config.matrix.management_room,
        )
        .await?;
        let apps = Applications::new(db.clone(), outbox.clone(), config);
        let calendar = crate::calendar::Service::new(
            db.clone(),
            outbox.clone(),
            crate::calendar::Settings::from_config(config)?,
        )
        .wired(calendar_wiring(&db));
        let commands = Commands::new(
            &config.matrix.command_prefix,
            apps.clone(),
            calendar.clone(),
            outbox.clone(),
        );
        Ok(Parts {
            db,
            outbox,
            apps,
            calendar,
            commands,
        })
    }
}

/// What the calendar reads from the other domains: the members of a group (accepted
/// applicants) to mail agendas to, and the raw inbound mail to read a proposal's sender from.
fn calendar_wiring(db: &Db) -> crate::calendar::Wiring {
    let members_db = db.clone();
    let inbound_db = db.clone();
    crate::calendar::Wiring {
        members: Some(std::sync::Arc::new(move |slug: String| {
            let db = members_db.clone();
            Box::pin(async move {
                let accepted =
                    crate::applications::store::list(&db, Some(&slug), Some("accepted")).await?;
                // The group's team, as its caps count it: accepted into this group.
                Ok(accepted
                    .into_iter()
                    .filter(|e| e.group_slug.as_deref() == Some(slug.as_str()))
                    .map(|e| e.email)
                    .collect())
            })
        })),
        inbound_raw: Some(std::sync::Arc::new(move |id: i64| {
            let db = inbound_db.clone();
            Box::pin(async move { crate::bridge::inbound::raw_of(&db, id).await })
        })),
    }
}

/// Runs the daemon until `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    if config.smtp.max_attempts.is_some() {
        tracing::warn!(
            "smtp.max_attempts is no longer used: transient failures are retried for outbox.retry_for"
        );
    }
    // One daemon per state directory; `convene restore` waits for it to stop.
    let _lock = crate::storage::backup::DaemonLock::take(&config.state_dir)?;
    let parts = Parts::build(&config).await?;
    let health = Arc::new(Health::default());
    health.set("database", true);
    let metrics = crate::metrics::Metrics::default();
    let client = crate::matrix::client::connect(&config.matrix, &config.state_dir).await?;
    let threads = Threads {
        db: parts.db.clone(),
        outbox: parts.outbox.clone(),
        internal_marker: config.bridge.internal_marker.clone(),
        max_attachment_bytes: config.bridge.max_upload_bytes,
    };
    let bot = Bot::new(
        client.clone(),
        parts.outbox.clone(),
        parts.commands.clone(),
        threads,
        health.clone(),
        &config.matrix,
        config.groups.clone(),
    );
    crate::matrix::sync::register_handlers(&bot);
    // Before the workers: the pipeline matches applications to the calendar's calls.
    match parts.calendar.load_file().await {
        Ok(n) => tracing::info!(changed = n, "calendar loaded"),
        Err(e) => {
            let why = format!("{e:#}");
            tracing::error!(
                error = why,
                "calendar file not loaded; keeping the stored calendar"
            );
            let key = Key::Notice(format!("calendar-file-error-{}", crate::storage::now_ms()));
            let room = config.matrix.management_room.clone();
            parts
                .outbox
                .notice(
                    key,
                    &room,
                    &format!("⚠ The calendar file was not loaded: {why}"),
                )
                .await?;
        }
    }

    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    {
        let bot = bot.clone();
        supervise::spawn(&tracker, &cancel, &health, "matrix-sync", move |c| {
            crate::matrix::sync::run(bot.clone(), c)
        });
    }
    // Ingestion, the outboxes, the scheduler and the purge run where the lease is held.
    let leader = Leader {
        config: Arc::new(config.clone()),
        db: parts.db.clone(),
        outbox: parts.outbox.clone(),
        apps: parts.apps.clone(),
        calendar: parts.calendar.clone(),
        client: client.clone(),
        health: health.clone(),
        metrics: metrics.clone(),
    };
    supervise::spawn(&tracker, &cancel, &health, "lease", move |c| {
        leader.clone().run(c)
    });
    if let Some(addr) = config.http.listen.clone() {
        let ops = crate::http::Ops {
            health: health.clone(),
            metrics: metrics.clone(),
            db: parts.db.clone(),
            needs: ready_needs(&config),
        };
        let app = crate::http::router(ops, parts.calendar.clone());
        supervise::spawn(&tracker, &cancel, &health, "http", move |c| {
            crate::http::serve(addr.clone(), app.clone(), c)
        });
    }
    supervise::watchdog(&tracker, &cancel, &health);
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    tracing::info!(user = %config.matrix.user, groups = config.groups.len(), "convene is running");

    shutdown.await;
    tracing::info!("shutting down");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    cancel.cancel();
    tracker.close();
    if tokio::time::timeout(Duration::from_secs(20), tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!("some workers did not stop within 20 s");
    }
    Ok(())
}

/// The workers only the leader runs, started each time this process takes the lease and
/// stopped when it loses it.
#[derive(Clone)]
struct Leader {
    config: Arc<Config>,
    db: Db,
    outbox: Outbox,
    apps: Applications,
    calendar: crate::calendar::Service,
    client: matrix_sdk::Client,
    health: Arc<Health>,
    metrics: crate::metrics::Metrics,
}

impl Leader {
    /// Follows until the lease is free, leads while it is held; until cancelled.
    async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let me = crate::lease::holder();
        loop {
            let term = loop {
                match crate::lease::try_acquire(&self.db, me).await {
                    Ok(Some(term)) => break term,
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = format!("{e:#}"), "lease: database error"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(crate::lease::RENEW_EVERY) => {}
                    _ = cancel.cancelled() => return Ok(()),
                }
            };
            tracing::info!(
                term,
                holder = me,
                "leading: ingestion, outboxes and scheduler run here"
            );
            self.health.set_leader(true);
            let token = cancel.child_token();
            // An error or a panic here stops the leader's workers too.
            let guard = token.clone().drop_guard();
            let workers = TaskTracker::new();
            self.spawn(&workers, &token);
            workers.close();
            let mut renewed = tokio::time::Instant::now();
            let stopping = loop {
                tokio::select! {
                    _ = tokio::time::sleep(crate::lease::RENEW_EVERY) => {}
                    _ = cancel.cancelled() => break true,
                }
                match crate::lease::renew(&self.db, me, term).await {
                    Ok(true) => renewed = tokio::time::Instant::now(),
                    Ok(false) => {
                        tracing::warn!(term, "lease: taken over by the other process");
                        break false;
                    }
                    Err(e) if renewed.elapsed() >= crate::lease::TTL / 2 => {
                        tracing::warn!(
                            error = format!("{e:#}"),
                            "lease: cannot renew; no longer leading"
                        );
                        break false;
                    }
                    Err(_) => {}
                }
            };
            drop(guard);
            self.health.set_leader(false);
            // Its IMAP connection is gone with its workers (a standby does not need one).
            self.health.set("imap", false);
            if tokio::time::timeout(Duration::from_secs(20), workers.wait())
                .await
                .is_err()
            {
                tracing::warn!("some leader workers did not stop within 20 s");
            }
            if stopping {
                let _ = crate::lease::release(&self.db, me).await;
                return Ok(());
            }
        }
    }

    fn spawn(&self, tracker: &TaskTracker, cancel: &CancellationToken) {
        let config = &self.config;
        let health = &self.health;
        let metrics = &self.metrics;
        let policy = Policy::from(&config.outbox);
        let wake_pipeline = Arc::new(Notify::new());
        {
            let outbox = self.outbox.clone();
            let client = self.client.clone();
            let db = self.db.clone();
            let metrics = metrics.clone();
            supervise::spawn(tracker, cancel, health, "matrix-outbox", move |c| {
                let transport = MatrixTransport::new(client.clone(), db.clone());
                runner::run(outbox.clone(), transport, policy, metrics.clone(), c)
            });
        }
        {
            let outbox = self.outbox.clone();
            let smtp = config.smtp.clone();
            let metrics = metrics.clone();
            supervise::spawn(tracker, cancel, health, "smtp-outbox", move |c| {
                let outbox = outbox.clone();
                let smtp = smtp.clone();
                let metrics = metrics.clone();
                async move {
                    let transport = Smtp::new(&smtp)?.with_stages(outbox.db().clone());
                    runner::run(outbox, transport, policy, metrics, c).await
                }
            });
        }
        {
            let pipeline = Pipeline {
                db: self.db.clone(),
                outbox: self.outbox.clone(),
                apps: self.apps.clone(),
                calendar: self.calendar.clone(),
                routing: Arc::new(Routing::from_config(config)),
                bridge: Arc::new(config.bridge.clone()),
                wake: wake_pipeline.clone(),
                metrics: metrics.clone(),
            };
            supervise::spawn(tracker, cancel, health, "pipeline", move |c| {
                pipeline.clone().run(c)
            });
        }
        {
            let imap = Imap {
                db: self.db.clone(),
                cfg: config.mailbox.clone(),
                health: health.clone(),
                pipeline: wake_pipeline.clone(),
                outbox: self.outbox.clone(),
                metrics: metrics.clone(),
            };
            supervise::spawn(tracker, cancel, health, "imap", move |c| {
                imap.clone().run(c)
            });
        }
        {
            let purge = crate::privacy::purge::Purge {
                outbox: self.outbox.clone(),
                retention: config
                    .privacy
                    .retention
                    .iter()
                    .map(|(k, v)| (k.clone(), *v))
                    .collect(),
                every: config
                    .privacy
                    .purge_every
                    .to_std()
                    .unwrap_or(Duration::from_secs(86_400))
                    .max(Duration::from_secs(1)),
            };
            supervise::spawn(tracker, cancel, health, "purge", move |c| {
                purge.clone().run(c)
            });
        }
        {
            let calendar = self.calendar.clone();
            supervise::spawn(tracker, cancel, health, "scheduler", move |c| {
                crate::calendar::scheduler::run(calendar.clone(), c)
            });
        }
    }
}

/// What `/readyz` requires: Matrix synced, IMAP connected (or reconnecting within its
/// grace; the leader only), the database answering.
fn ready_needs(config: &Config) -> Vec<crate::health::Need> {
    use crate::health::Need;
    vec![
        Need {
            component: "matrix",
            grace: Duration::ZERO,
            leader_only: false,
        },
        Need {
            component: "imap",
            grace: Duration::from_secs(config.http.imap_grace_secs),
            leader_only: true,
        },
        Need {
            component: "database",
            grace: Duration::ZERO,
            leader_only: false,
        },
    ]
}

/// Completes on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
