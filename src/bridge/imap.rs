//! Mail in: the IMAP worker. Connects (TLS, STARTTLS or plain on loopback), selects the folder,
//! fetches every message above the stored cursor, persists each, and then waits with IDLE
//! (re-issued every `idle_refresh_secs`, with a NOOP in between) or polls when the server has
//! no IDLE.
//!
//! - Messages are keyed by (mailbox, UIDVALIDITY, UID); the cursor moves in the same
//!   transaction as the insert, so a crash re-fetches at most the messages in hand and the
//!   unique key drops the copies.
//! - Sizes come first, so an oversized message is never downloaded (only its header, which is
//!   quarantined). The others are fetched in batches (bounded in bytes), not one round trip
//!   each. A message the server returns no body for is asked for again, then stored without
//!   content (the pipeline quarantines it with its UID): never skipped silently.
//! - New mail announced while a fetch runs (`* N EXISTS`) is fetched before IDLE starts, so
//!   none waits for the next announcement.
//! - Every command has a timeout (`mailbox.timeout_secs`): a half-open connection ends in a
//!   reconnect, not a silent stall.
//! - **UIDVALIDITY**: when the server's value changes (an index rebuild, a migration), every UID
//!   is new. The folder is re-matched by Message-ID (or by digest when there is none):
//!   messages already handled are recorded as skipped; an unknown one that comes after the
//!   last known one in folder order arrived while convene was not looking and is handled as
//!   new mail; an unknown one before it was in the folder already and is recorded as skipped
//!   too, unless `import_existing`. (With nothing known, the time of the last complete check
//!   decides.) The change is reported in the management room.

use std::collections::BTreeMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskCx, Poll};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use async_imap::extensions::idle::IdleResponse;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_util::sync::CancellationToken;

use super::inbound::{self, Fetched};
use crate::config::{MailboxConfig, TlsMode};
use crate::health::Health;
use crate::outbox::Outbox;
use crate::storage::{Db, now_ms};

mod epoch;

/// Plain or TLS stream under one type, as async-imap wants a single stream type.
#[derive(Debug)]
pub enum ImapStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for ImapStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskCx<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskCx<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskCx<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskCx<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

pub type Session = async_imap::Session<ImapStream>;

/// Connects and logs in. Errors never contain the password.
pub async fn connect(cfg: &MailboxConfig) -> anyhow::Result<Session> {
    let tcp = tokio::time::timeout(
        Duration::from_secs(30),
        TcpStream::connect((cfg.host.as_str(), cfg.port)),
    )
    .await
    .map_err(|_| anyhow!("IMAP connect to {}:{} timed out", cfg.host, cfg.port))?
    .with_context(|| format!("IMAP connect to {}:{}", cfg.host, cfg.port))?;
    let tls = || -> anyhow::Result<(TlsConnector, ServerName<'static>)> {
        let config = super::tls::client_config(cfg.ca_file.as_deref())?;
        let name = ServerName::try_from(cfg.host.clone()).context("IMAP host name")?;
        Ok((TlsConnector::from(config), name))
    };
    let mut client = match cfg.tls {
        TlsMode::Plain => async_imap::Client::new(ImapStream::Plain(tcp)),
        TlsMode::Tls => {
            let (connector, name) = tls()?;
            let stream = connector
                .connect(name, tcp)
                .await
                .context("IMAP TLS handshake")?;
            async_imap::Client::new(ImapStream::Tls(Box::new(stream)))
        }
        TlsMode::Starttls => {
            let mut plain = async_imap::Client::new(ImapStream::Plain(tcp));
            plain
                .read_response()
                .await?
                .context("IMAP server closed before greeting")?;
            plain
                .run_command_and_check_ok("STARTTLS", None)
                .await
                .context("IMAP STARTTLS")?;
            let ImapStream::Plain(tcp) = plain.into_inner() else {
                unreachable!()
            };
            let (connector, name) = tls()?;
            let stream = connector
                .connect(name, tcp)
                .await
                .context("IMAP TLS handshake")?;
            // After STARTTLS there is no second greeting.
            let client = async_imap::Client::new(ImapStream::Tls(Box::new(stream)));
            let password = cfg.secret.expose()?;
            return client
                .login(&cfg.user, &password)
                .await
                .map_err(|(e, _)| anyhow!("IMAP login as {}: {e}", cfg.user));
        }
    };
    client
        .read_response()
        .await?
        .context("IMAP server closed before greeting")?;
    let password = cfg.secret.expose()?;
    client
        .login(&cfg.user, &password)
        .await
        .map_err(|(e, _)| anyhow!("IMAP login as {}: {e}", cfg.user))
}

/// What the IMAP worker needs.
#[derive(Clone)]
pub struct Imap {
    pub db: Db,
    pub cfg: MailboxConfig,
    pub health: Arc<Health>,
    /// Woken when mail was stored.
    pub pipeline: Arc<Notify>,
    /// For the report of a UIDVALIDITY change.
    pub outbox: Outbox,
    /// Reconnects are counted here.
    pub metrics: crate::metrics::Metrics,
}

/// A message as listed at a UIDVALIDITY change: UID, size, INTERNALDATE (ms), Message-ID header.
type Listed = (u32, u32, Option<i64>, Option<Vec<u8>>);

/// Largest batch of bodies fetched in one command.
const BATCH_BYTES: u64 = 16 * 1024 * 1024;
const BATCH_COUNT: usize = 100;
/// A message the server returns no body for is asked for this many times.
const BODY_TRIES: u32 = 3;

impl Imap {
    fn timeout(&self) -> Duration {
        Duration::from_secs(self.cfg.timeout_secs.max(1))
    }

    /// The worker: runs until cancelled, reconnecting with backoff after any error.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let mut backoff = Duration::from_secs(1);
        loop {
            let started = tokio::time::Instant::now();
            let result = tokio::select! {
                r = self.session_loop(&cancel) => r,
                _ = cancel.cancelled() => return Ok(()),
            };
            match result {
                Ok(()) => return Ok(()),
                Err(e) => {
                    if started.elapsed() > Duration::from_secs(60) {
                        backoff = Duration::from_secs(1);
                    }
                    tracing::warn!(error = format!("{e:#}"), retry_in = ?backoff, "IMAP connection failed");
                    self.health.set("imap", false);
                    self.metrics.imap_reconnect();
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = cancel.cancelled() => return Ok(()),
                    }
                    // At most a few seconds: a server back from a restart is used at once.
                    backoff = (backoff * 2).min(Duration::from_secs(4));
                }
            }
        }
    }

    /// Runs `fut` (one IMAP command) with the command timeout.
    async fn t<T>(
        &self,
        what: &str,
        fut: impl Future<Output = async_imap::error::Result<T>>,
    ) -> anyhow::Result<T> {
        match tokio::time::timeout(self.timeout(), fut).await {
            Ok(r) => r.with_context(|| format!("IMAP {what}")),
            Err(_) => bail!("IMAP {what}: no answer within {:?}", self.timeout()),
        }
    }

    async fn session_loop(&self, cancel: &CancellationToken) -> anyhow::Result<()> {
        let cfg = &self.cfg;
        let mut session = tokio::time::timeout(self.timeout(), connect(cfg))
            .await
            .map_err(|_| {
                anyhow!(
                    "IMAP connect and login: no answer within {:?}",
                    self.timeout()
                )
            })??;
        let caps = self.t("CAPABILITY", session.capabilities()).await?;
        let can_idle = cfg.idle && caps.has_str("IDLE");
        let mailbox = self
            .t(
                &format!("SELECT {}", cfg.folder),
                session.select(&cfg.folder),
            )
            .await?;
        let Some(uidvalidity) = mailbox.uid_validity else {
            bail!("server sent no UIDVALIDITY")
        };
        let uid_next = mailbox.uid_next.unwrap_or(1);
        match inbound::cursor_row(&self.db, &cfg.folder).await? {
            None if !cfg.import_existing => {
                // First start on this mailbox: mail already there is history, not news.
                inbound::advance_cursor(
                    &self.db,
                    &cfg.folder,
                    uidvalidity,
                    i64::from(uid_next) - 1,
                )
                .await?;
                inbound::mark_checked(&self.db, &cfg.folder, now_ms()).await?;
                tracing::info!(folder = %cfg.folder, skipped_below_uid = uid_next, "first start: existing mail is not imported");
            }
            None => {}
            Some((old, _, _)) if old == i64::from(uidvalidity) => {}
            Some((old, _, checked_at)) => {
                self.epoch_changed(&mut session, old, uidvalidity, checked_at)
                    .await?;
            }
        }
        tracing::info!(folder = %cfg.folder, uidvalidity, idle = can_idle, "IMAP connected");
        self.health.set("imap", true);
        loop {
            // Fetch until nothing more was announced meanwhile.
            loop {
                self.fetch_new(&mut session, uidvalidity).await?;
                let mut announced = false;
                while let Ok(r) = session.unsolicited_responses.try_recv() {
                    announced |= matches!(
                        r,
                        async_imap::types::UnsolicitedResponse::Exists(_)
                            | async_imap::types::UnsolicitedResponse::Recent(_)
                    );
                }
                if !announced {
                    break;
                }
            }
            inbound::mark_checked(&self.db, &cfg.folder, now_ms()).await?;
            if cancel.is_cancelled() {
                let _ = tokio::time::timeout(self.timeout(), session.logout()).await;
                return Ok(());
            }
            if can_idle {
                let mut idle = session.idle();
                match tokio::time::timeout(self.timeout(), idle.init()).await {
                    Ok(r) => r.context("IMAP IDLE")?,
                    Err(_) => bail!("IMAP IDLE: no answer within {:?}", self.timeout()),
                }
                let refresh = Duration::from_secs(cfg.idle_refresh_secs);
                let (wait, stop) = idle.wait_with_timeout(refresh);
                // The server's keepalives reset the library's timeout: refresh regardless.
                let outcome = tokio::select! {
                    r = tokio::time::timeout(refresh, wait) => Some(match r {
                        Ok(r) => r?,
                        Err(_) => IdleResponse::Timeout,
                    }),
                    _ = cancel.cancelled() => None,
                };
                drop(stop);
                session = match tokio::time::timeout(self.timeout(), idle.done()).await {
                    Ok(r) => r.context("IMAP DONE")?,
                    Err(_) => bail!("IMAP DONE: no answer within {:?}", self.timeout()),
                };
                match outcome {
                    None => {
                        let _ = tokio::time::timeout(self.timeout(), session.logout()).await;
                        return Ok(());
                    }
                    Some(IdleResponse::Timeout) => {
                        // Keepalive: a dead connection fails here and is reconnected.
                        self.t("NOOP", session.noop()).await?;
                        tracing::debug!("IDLE refreshed");
                    }
                    Some(_) => {}
                }
            } else {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(cfg.poll_secs)) => {}
                    _ = cancel.cancelled() => {
                        let _ = tokio::time::timeout(self.timeout(), session.logout()).await;
                        return Ok(());
                    }
                }
                // NOOP lets the server report new messages; the fetch finds them anyway.
                self.t("NOOP", session.noop()).await?;
            }
        }
    }

    /// Fetches every message above the cursor, persisting each before moving on.
    async fn fetch_new(&self, session: &mut Session, uidvalidity: u32) -> anyhow::Result<()> {
        let cfg = &self.cfg;
        let last = inbound::cursor(&self.db, &cfg.folder, uidvalidity).await?;
        // Sizes first (small), so an oversized message is never downloaded whole.
        let listed: Vec<(u32, u32)> = {
            let query = format!("{}:*", last + 1);
            let fut = async {
                let mut out = Vec::new();
                let mut stream = session.uid_fetch(&query, "(UID RFC822.SIZE)").await?;
                while let Some(item) = stream.next().await {
                    let f = item?;
                    if let (Some(uid), Some(size)) = (f.uid, f.size)
                        && i64::from(uid) > last
                    {
                        out.push((uid, size));
                    }
                }
                Ok(out)
            };
            self.t("FETCH sizes", fut).await?
        };
        if listed.is_empty() {
            return Ok(());
        }
        let mut listed = listed;
        listed.sort_unstable();
        let max_uid = listed.last().map(|l| l.0).unwrap_or_default();
        // Messages of this epoch already recorded (skipped at a UIDVALIDITY change).
        let known = inbound::stored_uids(&self.db, &cfg.folder, uidvalidity, last).await?;
        let pending: Vec<(u32, u32)> = listed
            .into_iter()
            .filter(|(uid, _)| !known.contains(&i64::from(*uid)))
            .collect();
        let mut stored = 0;
        let mut batch: Vec<(u32, u32)> = Vec::new();
        let mut batch_bytes = 0u64;
        for (uid, size) in pending {
            let oversized = u64::from(size) > cfg.max_message_bytes;
            if oversized {
                stored += self.flush(session, uidvalidity, &mut batch).await?;
                batch_bytes = 0;
                stored += self
                    .fetch_one(session, uidvalidity, uid, size, true)
                    .await?;
                continue;
            }
            if batch.len() >= BATCH_COUNT || batch_bytes + u64::from(size) > BATCH_BYTES {
                stored += self.flush(session, uidvalidity, &mut batch).await?;
                batch_bytes = 0;
            }
            batch.push((uid, size));
            batch_bytes += u64::from(size);
        }
        stored += self.flush(session, uidvalidity, &mut batch).await?;
        // Everything listed is stored (or was recorded before): the cursor can pass it all.
        if i64::from(max_uid) > inbound::cursor(&self.db, &cfg.folder, uidvalidity).await? {
            inbound::advance_cursor(&self.db, &cfg.folder, uidvalidity, i64::from(max_uid)).await?;
        }
        if stored > 0 {
            tracing::info!(count = stored, "stored new mail");
        }
        Ok(())
    }

    /// Fetches the bodies of `batch` in one command and stores them in UID order.
    async fn flush(
        &self,
        session: &mut Session,
        uidvalidity: u32,
        batch: &mut Vec<(u32, u32)>,
    ) -> anyhow::Result<usize> {
        if batch.is_empty() {
            return Ok(0);
        }
        let set = batch
            .iter()
            .map(|(u, _)| u.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let bodies: BTreeMap<u32, Vec<u8>> = {
            let fut = async {
                let mut out = BTreeMap::new();
                let mut stream = session.uid_fetch(&set, "(UID BODY.PEEK[])").await?;
                while let Some(item) = stream.next().await {
                    let f = item?;
                    if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                        out.insert(uid, body.to_vec());
                    }
                }
                Ok(out)
            };
            self.t("FETCH bodies", fut).await?
        };
        let mut bodies = bodies;
        let mut stored = 0;
        for (uid, size) in std::mem::take(batch) {
            match bodies.remove(&uid) {
                Some(raw) => {
                    self.store(uidvalidity, uid, size, Some(raw), false).await?;
                    stored += 1;
                }
                // Asked again on its own; stored without content if it still has none.
                None => {
                    stored += self
                        .fetch_one(session, uidvalidity, uid, size, false)
                        .await?
                }
            }
        }
        Ok(stored)
    }

    /// Fetches one message (its header only when oversized), asking up to [`BODY_TRIES`]
    /// times; a message that never comes is stored without content, to be quarantined.
    async fn fetch_one(
        &self,
        session: &mut Session,
        uidvalidity: u32,
        uid: u32,
        size: u32,
        oversized: bool,
    ) -> anyhow::Result<usize> {
        let query = if oversized {
            "(UID BODY.PEEK[HEADER])"
        } else {
            "(UID BODY.PEEK[])"
        };
        for attempt in 1..=BODY_TRIES {
            let raw = {
                let fut = async {
                    let mut raw = None;
                    let mut stream = session.uid_fetch(uid.to_string(), query).await?;
                    while let Some(item) = stream.next().await {
                        let f = item?;
                        if f.uid == Some(uid) {
                            raw = if oversized { f.header() } else { f.body() }.map(<[u8]>::to_vec);
                        }
                    }
                    Ok(raw)
                };
                self.t("FETCH", fut).await?
            };
            if let Some(raw) = raw {
                self.store(uidvalidity, uid, size, Some(raw), oversized)
                    .await?;
                return Ok(1);
            }
            tracing::warn!(
                uid,
                attempt,
                "the server returned no content for the message"
            );
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
        }
        self.store(uidvalidity, uid, size, None, oversized).await?;
        Ok(1)
    }

    async fn store(
        &self,
        uidvalidity: u32,
        uid: u32,
        size: u32,
        raw: Option<Vec<u8>>,
        oversized: bool,
    ) -> anyhow::Result<()> {
        let fetched = Fetched {
            mailbox: &self.cfg.folder,
            uidvalidity,
            uid,
            size,
            raw,
            oversized,
        };
        inbound::store(&self.db, fetched).await?;
        crate::failpoint::hit("after-store");
        self.pipeline.notify_one();
        Ok(())
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsMode::Tls => "tls",
            TlsMode::Starttls => "starttls",
            TlsMode::Plain => "plain",
        })
    }
}
