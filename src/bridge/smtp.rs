//! The SMTP transport of the outbox: sends a queued mail's bytes with its envelope (lettre),
//! and says whether a failure is transient (4xx, connection refused, timeouts: retried) or
//! permanent (5xx for the recipient: failed and reported at once).

use std::time::Duration;

use anyhow::Context;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{SmtpConfig, TlsMode};
use crate::outbox::queue::Item;
use crate::outbox::runner::{Deliver, SendError};
use crate::outbox::{MailOp, Transport};

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
}

impl Smtp {
    pub fn new(cfg: &SmtpConfig) -> anyhow::Result<Smtp> {
        Ok(Smtp {
            transport: transport(cfg)?,
        })
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
        match self.transport.send_raw(&envelope, raw).await {
            Ok(response) => {
                tracing::info!(id = item.id, message_id = %op.message_id, "mail sent");
                Ok(response
                    .message()
                    .next()
                    .map(str::to_owned)
                    .unwrap_or_else(|| response.code().to_string()))
            }
            Err(e) => Err(classify(&e)),
        }
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
