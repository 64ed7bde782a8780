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

/// What a person's mail from a room adds to an [`OutMail`] (kept apart so the many automatic
/// mails are built as before).
#[derive(Debug, Clone, Default)]
pub struct Rich {
    /// The member's display name: the From becomes "Name via <mailbox name>" at the mailbox's
    /// address (the name only ever as a typed, encoded value).
    pub sender_name: Option<String>,
    /// Reply-To: the mailbox, so answers come back to it, not to anyone's personal address.
    pub reply_to_mailbox: bool,
    /// An HTML alternative of `text`.
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
}

/// A file attached to an outgoing mail.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub data: Vec<u8>,
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
    build_rich(mail, &Rich::default(), from, key)
}

/// The From of a person's mail: "Alice Martin via Working Groups" at the mailbox's address.
fn sender(from: &MailboxAddr, name: Option<&str>) -> Mailbox {
    let Some(name) = name
        .map(|n| crate::markup::single_line(n).trim().to_owned())
        .filter(|n| !n.is_empty())
    else {
        return from.0.clone();
    };
    let house = from.0.name.as_deref().unwrap_or("Working Groups");
    let name: String = name.chars().take(80).collect();
    Mailbox::new(Some(format!("{name} via {house}")), from.0.email.clone())
}

/// Builds the mail queued under `key`, with what a person's mail adds ([`Rich`]).
pub fn build_rich(
    mail: &OutMail,
    rich: &Rich,
    from: &MailboxAddr,
    key: &str,
) -> anyhow::Result<Built> {
    let message_id = message_id_for(key, from.domain());
    let mut builder = lettre::Message::builder()
        .from(sender(from, rich.sender_name.as_deref()))
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
    if rich.reply_to_mailbox {
        builder = builder.reply_to(from.0.clone());
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.clone());
    let mut extra: Vec<SinglePart> = Vec::new();
    if let Some((ics, method)) = &mail.calendar {
        extra.push(
            SinglePart::builder()
                .header(ContentType::parse(&format!(
                    "text/calendar; method={method}; charset=utf-8"
                ))?)
                .body(ics.clone()),
        );
    }
    for a in &rich.attachments {
        let ct = ContentType::parse(&a.content_type)
            .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("valid"));
        extra.push(lettre::message::Attachment::new(a.filename.clone()).body(a.data.clone(), ct));
    }
    let message = match (&rich.html, extra.is_empty()) {
        (None, true) => builder.singlepart(text)?,
        (None, false) => builder.multipart(
            extra
                .into_iter()
                .fold(MultiPart::mixed().singlepart(text), |m, p| m.singlepart(p)),
        )?,
        (Some(html), no_extra) => {
            let alternative = MultiPart::alternative().singlepart(text).singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_HTML)
                    .body(html.clone()),
            );
            if no_extra {
                builder.multipart(alternative)?
            } else {
                builder.multipart(
                    extra
                        .into_iter()
                        .fold(MultiPart::mixed().multipart(alternative), |m, p| {
                            m.singlepart(p)
                        }),
                )?
            }
        }
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
    use mail_parser::MimeHeaders as _;

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
    fn a_persons_mail_has_the_name_reply_to_alternative_and_attachments() {
        let mail = OutMail {
            to: vec!["ana@x.test".into()],
            subject: "Re: Agenda".into(),
            text: "**Yes**\n".into(),
            in_reply_to: Some("<m1@x.test>".into()),
            references: vec!["<m0@x.test>".into(), "<m1@x.test>".into()],
            ..OutMail::default()
        };
        let rich = Rich {
            sender_name: Some("Alice Martin\r\nBcc: victim@evil.example".into()),
            reply_to_mailbox: true,
            html: Some("<p><strong>Yes</strong></p>".into()),
            attachments: vec![Attachment {
                filename: "agenda.pdf".into(),
                content_type: "application/pdf".into(),
                data: b"%PDF-1.4 test".to_vec(),
            }],
        };
        let b = build_rich(&mail, &rich, &from(), "reply-$e").unwrap();
        let msg = mail_parser::MessageParser::default().parse(&b.raw).unwrap();
        let from = msg.from().unwrap().first().unwrap();
        assert_eq!(from.address(), Some("wg@example.org"));
        assert_eq!(
            from.name(),
            Some("Alice Martin Bcc: victim@evil.example via Working Groups")
        );
        assert!(msg.bcc().is_none());
        assert_eq!(
            msg.reply_to().unwrap().first().unwrap().address(),
            Some("wg@example.org")
        );
        assert_eq!(msg.in_reply_to().as_text(), Some("m1@x.test"));
        assert_eq!(msg.body_text(0).unwrap().trim(), "**Yes**");
        assert!(msg.body_html(0).unwrap().contains("<strong>Yes</strong>"));
        let att = msg.attachment(0).unwrap();
        assert_eq!(att.attachment_name(), Some("agenda.pdf"));
        assert_eq!(att.contents(), b"%PDF-1.4 test");
        assert_eq!(b.envelope_from, "wg@example.org");
    }

    #[test]
    fn no_recipient_is_an_error() {
        assert!(build(&OutMail::default(), &from(), "k").is_err());
    }
}
