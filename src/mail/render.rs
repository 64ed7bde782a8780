//! How a bridged mail looks in a room: a header line (subject, sender), then the text body,
//! truncated. The HTML part of a mail is never passed through; its text rendering is shown,
//! escaped. The event also carries `org.convene.mail` with the ids needed to thread replies.

use mail_parser::{Message, MimeHeaders};
use serde_json::{Value, json};

use crate::chat::escape;

/// Longest body shown in the room; the full mail stays in the database.
pub const MAX_BODY_CHARS: usize = 6000;

pub fn sender(msg: &Message<'_>) -> (Option<String>, Option<String>) {
    let first = msg.from().and_then(|a| a.first());
    (
        first.and_then(|a| a.name()).map(str::to_owned),
        first.and_then(|a| a.address()).map(str::to_owned),
    )
}

pub fn mail_event(msg: &Message<'_>, inbound_id: i64, note: Option<&str>) -> Value {
    let subject = msg.subject().unwrap_or("(no subject)").trim().to_owned();
    let (name, address) = sender(msg);
    let from = match (&name, &address) {
        (Some(n), Some(a)) => format!("{n} <{a}>"),
        (None, Some(a)) => a.clone(),
        (Some(n), None) => n.clone(),
        (None, None) => "(unknown sender)".into(),
    };
    let mut text = msg.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let full_len = text.chars().count();
    if full_len > MAX_BODY_CHARS {
        text = text.chars().take(MAX_BODY_CHARS).collect();
        text.push_str(&format!(
            "\n[… {} more characters in the mail]",
            full_len - MAX_BODY_CHARS
        ));
    }
    let text = text.trim_end();
    let attachments: Vec<String> = msg
        .attachments()
        .map(|a| a.attachment_name().unwrap_or("(unnamed)").to_owned())
        .collect();
    let mut plain = format!("✉ {subject}\nFrom: {from}\n");
    let mut html = format!(
        "<p>✉ <strong>{}</strong><br>From: {}",
        escape(&subject),
        escape(&from)
    );
    if !attachments.is_empty() {
        plain.push_str(&format!("Attachments: {}\n", attachments.join(", ")));
        html.push_str(&format!(
            "<br>Attachments: {}",
            escape(&attachments.join(", "))
        ));
    }
    if let Some(note) = note {
        plain.push_str(&format!("({note})\n"));
        html.push_str(&format!("<br><em>{}</em>", escape(note)));
    }
    html.push_str("</p>");
    plain.push('\n');
    plain.push_str(text);
    html.push_str(&format!(
        "<blockquote>{}</blockquote>",
        escape(text).replace('\n', "<br>")
    ));
    json!({
        "msgtype": "m.text",
        "body": plain,
        "format": "org.matrix.custom.html",
        "formatted_body": html,
        "org.convene.mail": {
            "inbound_id": inbound_id,
            "message_id": msg.message_id(),
            "from": address,
            "subject": subject,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_truncates() {
        let body = "x".repeat(MAX_BODY_CHARS + 10);
        let raw =
            format!("From: A <a@b.test>\r\nSubject: <script>\r\nMessage-ID: <id1@b>\r\n\r\n{body}");
        let msg = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        let v = mail_event(&msg, 7, None);
        let html = v["formatted_body"].as_str().unwrap();
        assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
        assert!(
            v["body"]
                .as_str()
                .unwrap()
                .contains("[… 10 more characters in the mail]")
        );
        assert_eq!(v["org.convene.mail"]["message_id"], "id1@b");
        assert_eq!(v["org.convene.mail"]["inbound_id"], 7);
    }
}
