//! Delivery status notifications (RFC 3464): a `multipart/report; report-type=delivery-status`
//! whose `message/delivery-status` part says, per recipient, what happened (`Action`,
//! `Status`, `Diagnostic-Code`), and whose last part returns the original message or its
//! header — where the original's Message-ID is read, to match the report to the mail it is
//! about.
//!
//! Pure and lenient: a part that does not parse yields no recipient rather than an error.
//! Nothing read here is trusted beyond matching: the Message-ID is only looked up among the
//! mails convene itself sent, and texts are shown escaped.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

/// What happened to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The address (`Original-Recipient`, as we sent it, else `Final-Recipient`), lower-cased.
    pub address: String,
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded` (lower-cased).
    pub action: String,
    /// The enhanced status code, `5.1.1`.
    pub status: Option<String>,
    /// What the remote server said (`smtp; 550 …`), one line.
    pub diagnostic: Option<String>,
}

impl Recipient {
    /// A permanent failure: `failed`, or a `5.x.x` status.
    pub fn is_hard(&self) -> bool {
        self.action == "failed" || self.status.as_deref().is_some_and(|s| s.starts_with('5'))
    }

    /// A temporary one: `delayed`, or a `4.x.x` status.
    pub fn is_soft(&self) -> bool {
        !self.is_hard()
            && (self.action == "delayed"
                || self.status.as_deref().is_some_and(|s| s.starts_with('4')))
    }

    /// The reason in a few words: status and diagnostic.
    pub fn reason(&self) -> String {
        match (&self.status, &self.diagnostic) {
            (Some(s), Some(d)) => format!("{s} {d}"),
            (Some(s), None) => s.clone(),
            (None, Some(d)) => d.clone(),
            (None, None) => self.action.clone(),
        }
    }
}

/// A delivery status notification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Dsn {
    /// The Message-ID of the mail it reports on, with `<>`, from the returned message.
    pub original_message_id: Option<String>,
    pub recipients: Vec<Recipient>,
}

/// Reads a DSN; `None` when the mail is not one (no `message/delivery-status` part).
pub fn parse(msg: &Message<'_>) -> Option<Dsn> {
    let mut found = false;
    let mut dsn = Dsn::default();
    for part in &msg.parts {
        let Some(ct) = part.content_type() else {
            continue;
        };
        let ctype = ct.ctype().to_ascii_lowercase();
        let sub = ct.subtype().unwrap_or_default().to_ascii_lowercase();
        match (ctype.as_str(), sub.as_str()) {
            ("message", "delivery-status" | "global-delivery-status") => {
                found = true;
                dsn.recipients
                    .extend(recipients(&String::from_utf8_lossy(part.contents())));
            }
            ("message", "rfc822" | "global") => {
                if let PartType::Message(nested) = &part.body
                    && dsn.original_message_id.is_none()
                {
                    dsn.original_message_id = nested.message_id().map(bracket);
                }
            }
            ("text", "rfc822-headers") | ("message", "rfc822-headers")
                if dsn.original_message_id.is_none() =>
            {
                dsn.original_message_id = MessageParser::new()
                    .parse_headers(part.contents())
                    .and_then(|m| m.message_id().map(bracket));
            }
            _ => {}
        }
    }
    found.then_some(dsn)
}

fn bracket(id: &str) -> String {
    format!("<{}>", id.trim().trim_matches(['<', '>']))
}

/// The per-recipient blocks of a `message/delivery-status` body (the first block is the
/// per-message one and names no recipient).
fn recipients(body: &str) -> Vec<Recipient> {
    let mut out = Vec::new();
    for block in blocks(body) {
        let field = |name: &str| {
            block
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        // The address as we sent it: an alias may have rewritten the final one.
        let address = field("Original-Recipient")
            .or_else(|| field("Final-Recipient"))
            .map(|v| typed_value(&v))
            .map(|v| v.trim_matches(['<', '>']).to_ascii_lowercase())
            .filter(|v| v.contains('@'));
        let (Some(address), Some(action)) = (address, field("Action")) else {
            continue;
        };
        out.push(Recipient {
            address,
            action: action.trim().to_ascii_lowercase(),
            status: field("Status")
                .map(|s| s.split_whitespace().next().unwrap_or_default().to_owned())
                .filter(|s| s.chars().all(|c| c.is_ascii_digit() || c == '.') && !s.is_empty()),
            diagnostic: field("Diagnostic-Code")
                .map(|d| typed_value(&d))
                .map(|d| crate::markup::truncate(&d, 300).into_owned()),
        });
    }
    out
}

/// `rfc822; a@b` → `a@b` (the address type is dropped).
fn typed_value(v: &str) -> String {
    match v.split_once(';') {
        Some((_, rest)) => rest.trim().to_owned(),
        None => v.trim().to_owned(),
    }
}

/// Header-like blocks separated by blank lines, with folded lines unfolded.
fn blocks(body: &str) -> Vec<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut block: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !block.is_empty() {
                out.push(std::mem::take(&mut block));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = block.last_mut() {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            block.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    if !block.is_empty() {
        out.push(block);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/bridge/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn a_postfix_bounce_names_the_recipient_the_reason_and_the_original() {
        let raw = fixture("dsn-postfix.eml");
        let msg = MessageParser::default().parse(&raw).unwrap();
        let dsn = parse(&msg).expect("a DSN");
        assert_eq!(
            dsn.original_message_id.as_deref(),
            Some("<convene.abc123@convene.test>")
        );
        assert_eq!(dsn.recipients.len(), 1, "{dsn:?}");
        let r = &dsn.recipients[0];
        assert_eq!(r.address, "ana@bounce.test");
        assert_eq!(r.action, "failed");
        assert_eq!(r.status.as_deref(), Some("5.1.1"));
        assert!(r.is_hard() && !r.is_soft());
        assert!(r.reason().contains("mailbox unavailable"), "{}", r.reason());
    }

    #[test]
    fn a_delay_is_soft_and_headers_only_returns_work() {
        let raw = "From: MAILER-DAEMON@x.test\r\nTo: wg@x.test\r\nSubject: Delayed Mail\r\n\
MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nStill trying.\r\n\
--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.x.test\r\n\r\n\
Final-Recipient: rfc822; <Bo@Slow.test>\r\nAction: delayed\r\nStatus: 4.4.1\r\nDiagnostic-Code: smtp;\r\n  421 try later\r\n\r\n\
--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <m1@x.test>\r\nSubject: hi\r\n\r\n--b--\r\n";
        let msg = MessageParser::default().parse(raw.as_bytes()).unwrap();
        let dsn = parse(&msg).unwrap();
        assert_eq!(dsn.original_message_id.as_deref(), Some("<m1@x.test>"));
        let r = &dsn.recipients[0];
        assert_eq!(r.address, "bo@slow.test");
        assert!(r.is_soft() && !r.is_hard());
        assert_eq!(r.diagnostic.as_deref(), Some("421 try later"));
    }

    #[test]
    fn ordinary_mail_is_not_a_dsn() {
        let raw = b"From: a@x.test\r\nSubject: hi\r\n\r\nAction: failed\r\n";
        let msg = MessageParser::default().parse(&raw[..]).unwrap();
        assert_eq!(parse(&msg), None);
    }
}
