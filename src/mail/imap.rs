//! Mail in: the IMAP worker. Connects (TLS, STARTTLS or plain on loopback), selects the folder,
//! fetches every message above the stored cursor one at a time, persists it, and then waits
//! with IDLE (re-issued every `idle_refresh_secs`) or polls when the server has no IDLE.
//!
//! Messages are keyed by (mailbox, UIDVALIDITY, UID); the cursor moves in the same transaction
//! as the insert, so a crash re-fetches at most the message in hand and the unique key drops
//! the copy. A changed UIDVALIDITY restarts from UID 1 and the Message-ID check in
//! [`super::inbound`] keeps already-seen mail from being posted twice.

use std::fmt;
use std::pin::Pin;
use std::task::{Context as TaskCx, Poll};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use async_imap::extensions::idle::IdleResponse;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_util::sync::CancellationToken;

use super::inbound::{self, Fetched};
use crate::app::Ctx;
use crate::config::{MailboxConfig, TlsMode};

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

/// The worker: runs until cancelled, reconnecting with backoff after any error.
pub async fn run(ctx: Ctx, cancel: CancellationToken) -> anyhow::Result<()> {
    let mut backoff = Duration::from_secs(1);
    loop {
        let started = tokio::time::Instant::now();
        let result = tokio::select! {
            r = session_loop(&ctx, &cancel) => r,
            _ = cancel.cancelled() => return Ok(()),
        };
        match result {
            Ok(()) => return Ok(()),
            Err(e) => {
                if started.elapsed() > Duration::from_secs(60) {
                    backoff = Duration::from_secs(1);
                }
                tracing::warn!(error = format!("{e:#}"), retry_in = ?backoff, "IMAP connection failed");
                ctx.health.set("imap", false);
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = cancel.cancelled() => return Ok(()),
                }
                backoff = (backoff * 2).min(Duration::from_secs(300));
            }
        }
    }
}

async fn session_loop(ctx: &Ctx, cancel: &CancellationToken) -> anyhow::Result<()> {
    let cfg = &ctx.config.mailbox;
    let mut session = connect(cfg).await?;
    let caps = session.capabilities().await?;
    let can_idle = cfg.idle && caps.has_str("IDLE");
    let mailbox = session
        .select(&cfg.folder)
        .await
        .with_context(|| format!("SELECT {}", cfg.folder))?;
    let Some(uidvalidity) = mailbox.uid_validity else {
        bail!("server sent no UIDVALIDITY")
    };
    if !cfg.import_existing && !inbound::has_cursor(&ctx.db, &cfg.folder).await? {
        // First start on this mailbox: mail already there is history, not news.
        let next = mailbox.uid_next.unwrap_or(1);
        inbound::advance_cursor(&ctx.db, &cfg.folder, uidvalidity, i64::from(next) - 1).await?;
        tracing::info!(folder = %cfg.folder, skipped_below_uid = next, "first start: existing mail is not imported");
    }
    tracing::info!(folder = %cfg.folder, uidvalidity, idle = can_idle, "IMAP connected");
    ctx.health.set("imap", true);
    loop {
        fetch_new(ctx, &mut session, uidvalidity).await?;
        while session.unsolicited_responses.try_recv().is_ok() {}
        if cancel.is_cancelled() {
            let _ = session.logout().await;
            return Ok(());
        }
        if can_idle {
            let mut idle = session.idle();
            idle.init().await.context("IMAP IDLE")?;
            let (wait, stop) = idle.wait_with_timeout(Duration::from_secs(cfg.idle_refresh_secs));
            let outcome = tokio::select! {
                r = wait => Some(r?),
                _ = cancel.cancelled() => None,
            };
            drop(stop);
            session = idle.done().await.context("IMAP DONE")?;
            match outcome {
                None => {
                    let _ = session.logout().await;
                    return Ok(());
                }
                Some(IdleResponse::Timeout) => tracing::debug!("IDLE refreshed"),
                Some(_) => {}
            }
        } else {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(cfg.poll_secs)) => {}
                _ = cancel.cancelled() => {
                    let _ = session.logout().await;
                    return Ok(());
                }
            }
            // NOOP lets the server report new messages; SEARCH below finds them anyway.
            session.noop().await?;
        }
    }
}

/// Fetches every message above the cursor, one at a time, persisting each before moving on.
async fn fetch_new(ctx: &Ctx, session: &mut Session, uidvalidity: u32) -> anyhow::Result<()> {
    let cfg = &ctx.config.mailbox;
    let last = inbound::cursor(&ctx.db, &cfg.folder, uidvalidity).await?;
    // Sizes first (small), so an oversized message is never downloaded whole.
    let mut pending: Vec<(u32, u32)> = Vec::new();
    {
        let mut stream = session
            .uid_fetch(format!("{}:*", last + 1), "(UID RFC822.SIZE)")
            .await?;
        while let Some(item) = stream.next().await {
            let f = item?;
            if let (Some(uid), Some(size)) = (f.uid, f.size)
                && i64::from(uid) > last
            {
                pending.push((uid, size));
            }
        }
    }
    pending.sort_unstable();
    let mut stored = 0;
    for (uid, size) in pending {
        let oversized = u64::from(size) > cfg.max_message_bytes;
        let query = if oversized {
            "(UID BODY.PEEK[HEADER])"
        } else {
            "(UID BODY.PEEK[])"
        };
        let mut raw = None;
        {
            let mut stream = session.uid_fetch(uid.to_string(), query).await?;
            while let Some(item) = stream.next().await {
                let f = item?;
                if f.uid == Some(uid) {
                    raw = if oversized { f.header() } else { f.body() }.map(<[u8]>::to_vec);
                }
            }
        }
        let Some(raw) = raw else {
            tracing::warn!(uid, "message vanished before it could be fetched");
            inbound::advance_cursor(&ctx.db, &cfg.folder, uidvalidity, i64::from(uid)).await?;
            continue;
        };
        let fetched = Fetched {
            mailbox: &cfg.folder,
            uidvalidity,
            uid,
            size,
            raw,
            oversized,
        };
        inbound::store(&ctx.db, fetched).await?;
        crate::failpoint::hit("after-store");
        stored += 1;
        ctx.wake.pipeline.notify_one();
    }
    if stored > 0 {
        tracing::info!(count = stored, "stored new mail");
    }
    Ok(())
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
