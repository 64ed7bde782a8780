//! Outgoing mail, built once: the message convene sends, as bytes with a fixed Message-ID,
//! plus its envelope. Built when it is queued (so a resend sends the very same bytes).
//!
//! Every value from chat or mail reaches a header only through lettre's typed builders, which
//! encode it (RFC 2047) and refuse line breaks; nothing is pasted into a header as text.
//! Automatic replies carry `Auto-Submitted` and go out with a null envelope sender
//! (RFC 3834 §3.3), so a bounce of a bounce cannot loop back to us.

use anyhow::Context;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart, header::Header};
use sha2::{Digest, Sha256};

use crate::config::MailboxAddr;

/// A mail to send.
#[derive(Debug, Clone, Default)]
pub struct OutMail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// `auto-replied` or `auto-generated` (RFC 3834); None for mail a person decided to send.
    pub auto_submitted: Option<&'static str>,
    /// A `text/calendar` part (meeting invitations) and its METHOD (`REQUEST`, `CANCEL`).
    pub calendar: Option<(String, &'static str)>,
}

/// The mail as bytes, with its envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub raw: Vec<u8>,
    /// Empty: the null reverse path.
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub message_id: String,
}

#[derive(Clone, Debug)]
struct AutoSubmitted(String);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The Message-ID of the mail queued under `key`: stable, so the answer to it can be matched.
pub fn message_id_for(key: &str, domain: &str) -> String {
    let hash = Sha256::digest(key.as_bytes());
    format!("<convene.{hash:x}@{domain}>")
}

/// Whether a Message-ID is one convene gives its own mail (for `domain`).
pub fn is_own_message_id(id: &str, domain: &str) -> bool {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    id.strip_prefix("convene.")
        .and_then(|r| r.split_once('@'))
        .is_some_and(|(hash, d)| {
            hash.len() == 64
                && hash.chars().all(|c| c.is_ascii_hexdigit())
                && d.eq_ignore_ascii_case(domain)
        })
}

/// Builds the mail queued under `key`.
pub fn build(mail: &OutMail, from: &MailboxAddr, key: &str) -> anyhow::Result<Built> {
    let message_id = message_id_for(key, from.domain());
    let mut builder = lettre::Message::builder()
        .from(from.0.clone())
        .subject(mail.subject.clone())
        .message_id(Some(message_id.clone()))
        .date_now();
    let mut recipients = Vec::new();
    for to in &mail.to {
        let mb: Mailbox = to.parse().with_context(|| format!("recipient `{to}`"))?;
        recipients.push(mb.email.to_string());
        builder = builder.to(mb);
    }
    if recipients.is_empty() {
        anyhow::bail!("a mail needs a recipient");
    }
    if let Some(irt) = &mail.in_reply_to {
        builder = builder.in_reply_to(irt.clone());
    }
    if !mail.references.is_empty() {
        builder = builder.references(mail.references.join(" "));
    }
    if let Some(kind) = mail.auto_submitted {
        builder = builder.header(AutoSubmitted(kind.to_owned()));
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone());
    let message = match &mail.calendar {
        None => builder.singlepart(text)?,
        Some((ics, method)) => builder.multipart(
            MultiPart::mixed().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::parse(&format!(
                        "text/calendar; method={method}; charset=utf-8"
                    ))?)
                    .body(ics.clone()),
            ),
        )?,
    };
    // RFC 3834 §3.3: automatic responses use the null reverse path.
    let envelope_from = if mail.auto_submitted.is_some() {
        String::new()
    } else {
        from.address()
    };
    Ok(Built {
        raw: message.formatted(),
        envelope_from,
        recipients,
        message_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from() -> MailboxAddr {
        "Working Groups <wg@example.org>".parse().unwrap()
    }

    #[test]
    fn automatic_replies_have_a_null_sender_and_the_header() {
        let mail = OutMail {
            to: vec!["Ana <ana@x.test>".into()],
            subject: "Re: EoI".into(),
            text: "Thanks".into(),
            in_reply_to: Some("<m1@x.test>".into()),
            auto_submitted: Some("auto-replied"),
            ..OutMail::default()
        };
        let b = build(&mail, &from(), "eoi-ack-1").unwrap();
        let text = String::from_utf8_lossy(&b.raw);
        assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
        assert!(text.contains("In-Reply-To: <m1@x.test>"), "{text}");
        assert_eq!(b.envelope_from, "");
        assert_eq!(b.recipients, vec!["ana@x.test"]);
        assert_eq!(b.message_id, message_id_for("eoi-ack-1", "example.org"));
        assert!(is_own_message_id(&b.message_id, "example.org"));
        assert!(!is_own_message_id(
            "<convene.abc@example.org>",
            "example.org"
        ));
        assert!(!is_own_message_id(&b.message_id, "other.example"));
    }

    #[test]
    fn a_subject_cannot_inject_headers() {
        let mail = OutMail {
            to: vec!["ana@x.test".into()],
            subject: "Hi\r\nBcc: victim@evil.example".into(),
            text: "x".into(),
            ..OutMail::default()
        };
        let b = build(&mail, &from(), "k").unwrap();
        let text = String::from_utf8_lossy(&b.raw);
        assert!(!text.contains("\r\nBcc:"), "{text}");
        assert_eq!(b.envelope_from, "wg@example.org");
    }

    #[test]
    fn no_recipient_is_an_error() {
        assert!(build(&OutMail::default(), &from(), "k").is_err());
    }
}
