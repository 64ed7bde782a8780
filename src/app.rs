//! The daemon: builds the shared context, starts the named workers under one cancellation
//! token, tells systemd it is ready, and stops them all gracefully on shutdown.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::matrix::outbox::{self, Post};
use crate::storage::Db;
use crate::supervise;

/// Shared state of the running daemon, cheap to clone.
pub type Ctx = Arc<App>;

pub struct App {
    pub config: Config,
    pub db: Db,
    /// None when a CLI subcommand runs without Matrix.
    pub matrix: Option<matrix_sdk::Client>,
    /// Prefix of every Matrix transaction id (see [`outbox`]).
    pub install_id: String,
    pub wake: Wakers,
    pub health: Health,
    /// Set once the first sync has caught up; before that, messages are backlog.
    pub live: AtomicBool,
    /// Resolved room id → the room as configured (id or alias).
    pub rooms: RwLock<HashMap<String, String>>,
}

/// Wakes a worker when there is new work for it, so none has to poll.
#[derive(Default)]
pub struct Wakers {
    pub pipeline: Notify,
    pub matrix_outbox: Notify,
    pub mail_outbox: Notify,
    pub scheduler: Notify,
}

/// Per-component health, for `/healthz` and the systemd watchdog.
#[derive(Default)]
pub struct Health(Mutex<BTreeMap<&'static str, bool>>);

impl Health {
    pub fn set(&self, component: &'static str, ok: bool) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(component, ok);
    }
    pub fn snapshot(&self) -> BTreeMap<&'static str, bool> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl App {
    pub async fn new(config: Config, matrix: Option<matrix_sdk::Client>) -> anyhow::Result<Ctx> {
        let db = Db::connect(&config.database_url()?, config.database.max_connections).await?;
        let install_id = outbox::install_id(&db).await?;
        let mut rooms = HashMap::new();
        for room in config.configured_rooms() {
            if room.starts_with('!') {
                rooms.insert(room.clone(), room);
            }
        }
        Ok(Arc::new(App {
            config,
            db,
            matrix,
            install_id,
            wake: Wakers::default(),
            health: Health::default(),
            live: AtomicBool::new(false),
            rooms: RwLock::new(rooms),
        }))
    }

    /// The room as configured, for a resolved room id (None: not a configured room).
    pub fn room_key(&self, room_id: &str) -> Option<String> {
        self.rooms
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(room_id)
            .cloned()
    }

    /// Queues a plain notice (idempotent by `key`) and wakes the outbox.
    pub async fn post_notice(&self, key: &str, room: &str, text: &str) -> anyhow::Result<()> {
        let post = Post::message(key, room, crate::matrix::notice(text));
        outbox::enqueue(&self.db.pool, &self.install_id, &post).await?;
        self.wake.matrix_outbox.notify_one();
        Ok(())
    }
}

/// Runs the daemon until `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.state_dir).ok();
    let client = crate::matrix::client::connect(&config).await?;
    let ctx = App::new(config, Some(client.clone())).await?;
    crate::matrix::sync::register_handlers(&client, &ctx);
    // Before the workers: the pipeline matches applications to the calendar's calls.
    match crate::calendar::store::load_file(&ctx.db, &ctx.config).await {
        Ok(n) => tracing::info!(changed = n, "calendar loaded"),
        Err(e) => {
            let why = format!("{e:#}");
            tracing::error!(
                error = why,
                "calendar file not loaded; keeping the stored calendar"
            );
            let room = ctx.config.matrix.management_room.clone();
            let key = format!("calendar-file-error-{}", crate::storage::now_ms());
            ctx.post_notice(
                &key,
                &room,
                &format!("⚠ The calendar file was not loaded: {why}"),
            )
            .await?;
        }
    }

    let cancel = CancellationToken::new();
    let tracker = TaskTracker::new();
    supervise::spawn(
        &tracker,
        &cancel,
        &ctx,
        "matrix-sync",
        crate::matrix::sync::run,
    );
    supervise::spawn(
        &tracker,
        &cancel,
        &ctx,
        "matrix-outbox",
        crate::matrix::outbox::run,
    );
    supervise::spawn(
        &tracker,
        &cancel,
        &ctx,
        "pipeline",
        crate::mail::pipeline::run,
    );
    supervise::spawn(&tracker, &cancel, &ctx, "imap", crate::mail::imap::run);
    supervise::spawn(
        &tracker,
        &cancel,
        &ctx,
        "smtp-outbox",
        crate::mail::outbox::run,
    );
    supervise::spawn(
        &tracker,
        &cancel,
        &ctx,
        "scheduler",
        crate::calendar::scheduler::run,
    );
    if ctx.config.http.listen.is_some() {
        supervise::spawn(&tracker, &cancel, &ctx, "http", crate::http::run);
    }
    supervise::watchdog(&tracker, &cancel, &ctx);
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    tracing::info!(user = %ctx.config.matrix.user, groups = ctx.config.groups.len(), "convene is running");

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
