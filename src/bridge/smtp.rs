//! The SMTP transport of the outbox: sends a queued mail's bytes with its envelope (lettre),
//! and says whether a failure is transient (4xx, connection refused, timeouts: retried) or
//! permanent (5xx for the recipient: failed and reported at once).
//!
//! SMTP has no idempotency: a mail whose final `.` reached the server is delivered whether
//! or not its `250` came back. So each send notes in the outbox row, once the message's bytes
//! are written and just before the final `.` is, that it may be out (`sending_by` =
//! `<process>|data`). A process that takes over an item another
//! process left at that stage does not send it again (it may have gone out): it fails it, and
//! the failure is shown in the management room, where `!outbox retry` sends it. Left before
//! that stage (connecting, the envelope), it was not sent, and is sent.

use std::time::Duration;

use anyhow::Context;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{SmtpConfig, TlsMode};
use crate::outbox::queue::Item;
use crate::outbox::runner::{Deliver, SendError};
use crate::outbox::{MailOp, Transport};
use crate::storage::Db;

pub fn transport(cfg: &SmtpConfig) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let tls_params = || -> anyhow::Result<TlsParameters> {
        let mut b = TlsParameters::builder(cfg.host.clone());
        if let Some(path) = &cfg.ca_file {
            let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            b = b.add_root_certificate(Certificate::from_pem(&pem)?);
        }
        Ok(b.build_rustls()?)
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(cfg.host.clone())
        .port(cfg.port)
        .timeout(Some(Duration::from_secs(60)));
    builder = match cfg.tls {
        TlsMode::Plain => builder.tls(Tls::None),
        TlsMode::Starttls => builder.tls(Tls::Required(tls_params()?)),
        TlsMode::Tls => builder.tls(Tls::Wrapper(tls_params()?)),
    };
    if let (Some(user), Some(secret)) = (&cfg.user, &cfg.secret) {
        builder = builder.credentials(Credentials::new(user.clone(), secret.expose()?));
    }
    Ok(builder.build())
}

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    cfg: SmtpConfig,
    /// Where the send stage is noted (see the module header); without it, lettre's transport.
    db: Option<Db>,
}

impl Smtp {
    pub fn new(cfg: &SmtpConfig) -> anyhow::Result<Smtp> {
        Ok(Smtp {
            transport: transport(cfg)?,
            cfg: cfg.clone(),
            db: None,
        })
    }

    /// Sends stage by stage, noting in `db` when the message itself is being written.
    pub fn with_stages(mut self, db: Db) -> Smtp {
        self.db = Some(db);
        self
    }

    fn tls_parameters(&self) -> Result<TlsParameters, SendError> {
        let mut b = TlsParameters::builder(self.cfg.host.clone());
        if let Some(path) = &self.cfg.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| SendError::permanent(format!("reading {}: {e}", path.display())))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| classify(&e))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls().map_err(|e| classify(&e))
    }

    /// One SMTP transaction on a connection of its own, noting the stage before the data.
    async fn send_staged(
        &self,
        db: &Db,
        item: &Item,
        envelope: &lettre::address::Envelope,
        raw: &[u8],
    ) -> Result<lettre::transport::smtp::response::Response, SendError> {
        use lettre::transport::smtp::client::AsyncSmtpConnection;
        use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
        use lettre::transport::smtp::extension::{
            ClientId, Extension, MailBodyParameter, MailParameter,
        };
        let hello = ClientId::default();
        let wrapper = match self.cfg.tls {
            TlsMode::Tls => Some(self.tls_parameters()?),
            _ => None,
        };
        let mut conn = AsyncSmtpConnection::connect_tokio1(
            (self.cfg.host.as_str(), self.cfg.port),
            Some(Duration::from_secs(60)),
            &hello,
            wrapper,
            None,
        )
        .await
        .map_err(|e| classify(&e))?;
        let result = async {
            if self.cfg.tls == TlsMode::Starttls {
                conn.starttls(self.tls_parameters()?, &hello)
                    .await
                    .map_err(|e| classify(&e))?;
            }
            if let (Some(user), Some(secret)) = (&self.cfg.user, &self.cfg.secret) {
                let password = secret
                    .expose()
                    .map_err(|e| SendError::permanent(format!("{e:#}")))?;
                let creds = Credentials::new(user.clone(), password);
                conn.auth(
                    &[
                        lettre::transport::smtp::authentication::Mechanism::Plain,
                        lettre::transport::smtp::authentication::Mechanism::Login,
                    ],
                    &creds,
                )
                .await
                .map_err(|e| classify(&e))?;
            }
            let mut options = Vec::new();
            if !raw.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
                options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
            }
            conn.command(Mail::new(envelope.from().cloned(), options))
                .await
                .map_err(|e| classify(&e))?;
            for to in envelope.to() {
                conn.command(Rcpt::new(to.clone(), vec![]))
                    .await
                    .map_err(|e| classify(&e))?;
            }
            conn.command(Data).await.map_err(|e| classify(&e))?;
            // The stage is noted after the message's bytes went out and before the final
            // `.` does: from then on the server may have it.
            let stage = format!("{}|data", crate::outbox::runner::instance());
            let noted = std::sync::atomic::AtomicBool::new(false);
            let parts = ThenNote {
                part: Some(raw),
                note: Some(Box::new(|| {
                    let done = tokio::task::block_in_place(|| {
                        tokio::runtime::Handle::current()
                            .block_on(crate::outbox::queue::mark_sending(db, item.id, &stage))
                    });
                    noted.store(done.is_ok(), std::sync::atomic::Ordering::SeqCst);
                })),
            };
            let sent = conn.message_iter(parts).await;
            if !noted.load(std::sync::atomic::Ordering::SeqCst) {
                tracing::warn!(id = item.id, "the send stage could not be noted");
            }
            match sent {
                Ok(r) => Ok(r),
                // A reply (4xx, 5xx) says the server did not take it: not an ambiguous stage.
                Err(e) if e.is_transient() || e.is_permanent() => {
                    let _ = crate::outbox::queue::mark_sending(
                        db,
                        item.id,
                        crate::outbox::runner::instance(),
                    )
                    .await;
                    Err(classify(&e))
                }
                Err(e) => Err(classify(&e)),
            }
        }
        .await;
        // No QUIT to wait for: the mail is the server's once it said 250, and every moment
        // before the row is marked sent is one in which a crash leaves it uncertain.
        conn.abort().await;
        result
    }
}

impl Deliver for Smtp {
    fn transport(&self) -> Transport {
        Transport::Mail
    }

    async fn probe(&self) -> bool {
        self.transport.test_connection().await.unwrap_or(false)
    }

    async fn deliver(&self, item: &Item, _txn: &str) -> Result<String, SendError> {
        let op: MailOp = serde_json::from_str(&item.op)
            .map_err(|e| SendError::permanent(format!("unreadable outbox item: {e}")))?;
        let raw = item
            .data
            .as_deref()
            .ok_or_else(|| SendError::permanent("the mail's bytes are missing"))?;
        let from: Option<Address> = if op.envelope_from.is_empty() {
            None
        } else {
            Some(op.envelope_from.parse().map_err(|e| {
                SendError::permanent(format!("bad sender {}: {e}", op.envelope_from))
            })?)
        };
        let to = op
            .recipients
            .iter()
            .map(|t| t.parse::<Address>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| SendError::permanent(format!("bad recipient: {e}")))?;
        let envelope = lettre::address::Envelope::new(from, to)
            .map_err(|e| SendError::permanent(format!("bad envelope: {e}")))?;
        if item.uncertain
            && item
                .sending_by
                .as_deref()
                .is_some_and(|s| s.ends_with("|data"))
        {
            return Err(SendError::permanent(
                "it may have gone out just before the other convene process stopped, so it is not \
                 sent again (`!outbox retry` sends it)",
            ));
        }
        let sent = match &self.db {
            Some(db) => self.send_staged(db, item, &envelope, raw).await,
            None => self
                .transport
                .send_raw(&envelope, raw)
                .await
                .map_err(|e| classify(&e)),
        };
        match sent {
            Ok(response) => {
                tracing::info!(id = item.id, message_id = %op.message_id, "mail sent");
                Ok(response
                    .message()
                    .next()
                    .map(str::to_owned)
                    .unwrap_or_else(|| response.code().to_string()))
            }
            Err(e) => Err(e),
        }
    }
}

/// The message as one part, then a note (run when the part was written, before lettre
/// writes the final `.`).
struct ThenNote<'a> {
    part: Option<&'a [u8]>,
    note: Option<Box<dyn FnOnce() + Send + 'a>>,
}

impl<'a> Iterator for ThenNote<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if let Some(p) = self.part.take() {
            return Some(p);
        }
        if let Some(note) = self.note.take() {
            note();
        }
        None
    }
}

/// SMTP 5xx and client-side errors (a malformed address) are permanent; 4xx, timeouts,
/// refused or dropped connections and TLS trouble are transient.
fn classify(e: &lettre::transport::smtp::Error) -> SendError {
    let reason = format!("{e}");
    if e.is_permanent() || e.is_client() {
        SendError::Permanent(reason)
    } else {
        SendError::transient(reason)
    }
}
