//! From a parsed message to the applicant's own words: body text, sender, attachments, and
//! an application forwarded as an attached `message/rfc822` (inline forwards: `forward`).
//!
//! Choices: the body is the `text/plain` alternative, with the `text/html` one converted by
//! [`super::html`] kept beside it (the caller uses whichever yields more labelled fields, as
//! mail clients often flatten tables badly in plain text). When `From:` is one of our own
//! addresses or a no-reply robot (a web form), the `Reply-To:` person is the sender. E-mail
//! addresses are lower-cased. Inline images referenced from the HTML (`Content-ID` without an
//! attachment disposition) are layout, not attachments.

use std::sync::LazyLock;

use mail_parser::{Addr, Message, MessagePart, MimeHeaders, PartType};
use regex::Regex;

use super::{AttachmentInfo, ExtractConfig, html};

/// A name and an address, either possibly unknown.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Person {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Plain text of a message, and the converted HTML alternative if there is a separate one.
pub fn body_text(msg: &Message) -> (String, Option<String>) {
    let mut text = Vec::new();
    for id in &msg.text_body {
        match msg.parts.get(*id as usize).map(|p| &p.body) {
            Some(PartType::Text(t)) => text.push(t.to_string()),
            Some(PartType::Html(h)) => text.push(html::to_text(h)),
            _ => {}
        }
    }
    let mut alternative = Vec::new();
    for id in msg
        .html_body
        .iter()
        .filter(|id| !msg.text_body.contains(id))
    {
        if let Some(PartType::Html(h)) = msg.parts.get(*id as usize).map(|p| &p.body) {
            alternative.push(html::to_text(h));
        }
    }
    let text = normalise_newlines(&text.join("\n\n"));
    let alternative =
        (!alternative.is_empty()).then(|| normalise_newlines(&alternative.join("\n\n")));
    match alternative {
        Some(alt) if text.trim().is_empty() => (alt, None),
        alt => (text, alt),
    }
}

fn normalise_newlines(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .replace(['\u{200b}', '\u{feff}'], "")
        .replace('\u{a0}', " ")
}

static NO_REPLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(no-?reply|do-?not-?reply|noreply|mailer|notifications?|forms?|webforms?|wordpress|www-data)(\+[^@]*)?@")
        .expect("no-reply regex")
});

/// Whether `address` is one of ours or a no-reply robot (a web form): such a sender submits
/// for the person in `Reply-To:`, it is not the applicant.
pub fn is_robot(address: &str, cfg: &ExtractConfig) -> bool {
    is_own(address, cfg) || NO_REPLY.is_match(address.trim())
}

fn is_own(address: &str, cfg: &ExtractConfig) -> bool {
    cfg.own_addresses
        .iter()
        .any(|own| own.eq_ignore_ascii_case(address.trim()))
}

fn person(addr: &Addr) -> Person {
    Person {
        name: addr.name.as_deref().and_then(display_name),
        email: addr.address.as_deref().and_then(normalise_email),
    }
}

/// Who wrote `msg`, by its headers.
pub fn sender(msg: &Message, cfg: &ExtractConfig) -> Person {
    let from = msg
        .from()
        .and_then(|a| a.first())
        .map(person)
        .unwrap_or_default();
    let robot = from
        .email
        .as_deref()
        .is_none_or(|e| is_own(e, cfg) || NO_REPLY.is_match(e));
    if robot
        && let Some(reply_to) = msg.reply_to().and_then(|a| a.first()).map(person)
        && reply_to.email.as_deref().is_some_and(|e| !is_own(e, cfg))
    {
        return reply_to;
    }
    from
}

/// Cleans a display name: quotes removed, "Virtanen, Aino" turned into "Aino Virtanen".
pub fn display_name(raw: &str) -> Option<String> {
    let name = raw.trim().trim_matches(['"', '\'', ' ']).trim();
    if name.is_empty() || name.contains('@') {
        return None;
    }
    let name = match name.split_once(',') {
        Some((last, first))
            if !first.contains(',')
                && !first.trim().is_empty()
                && last.split_whitespace().count() <= 3
                && first.split_whitespace().count() <= 3 =>
        {
            format!("{} {}", first.trim(), last.trim())
        }
        _ => name.to_string(),
    };
    strip_honorifics(&name)
}

/// Honorifics and academic titles are not part of a name ("Dr. Jürgen Weiß" → "Jürgen Weiß").
const HONORIFICS: &[&str] = &[
    "dr",
    "dr.",
    "prof",
    "prof.",
    "mr",
    "mr.",
    "mrs",
    "mrs.",
    "ms",
    "ms.",
    "mx",
    "m.",
    "mme",
    "mlle",
    "herr",
    "frau",
    "sig.",
    "sig.ra",
    "dott.",
    "dott.ssa",
    "dr.ssa",
    "ing.",
    "sr.",
    "sra.",
    "d.",
    "dª",
    "dhr.",
    "mevr.",
    "pan",
    "pani",
    "mag.",
    "dipl.-ing.",
    "univ.-prof.",
];

/// Drops leading honorifics and collapses whitespace; `None` if nothing is left.
pub fn strip_honorifics(name: &str) -> Option<String> {
    let words: Vec<&str> = name.split_whitespace().collect();
    let skip = words
        .iter()
        .take_while(|w| HONORIFICS.contains(&w.to_lowercase().as_str()))
        .count();
    let rest = words[skip.min(words.len())..].join(" ");
    (!rest.is_empty()).then_some(rest)
}

pub static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+'=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .expect("email regex")
});

/// The e-mail address in `s` ("mailto:", angle brackets and case removed), if any.
pub fn normalise_email(s: &str) -> Option<String> {
    EMAIL.find(s).map(|m| m.as_str().to_ascii_lowercase())
}

/// The attachments of `msg`, minus the part `skip` (a forwarded message read as the
/// application), plus that forwarded message's own attachments.
pub fn attachments(msg: &Message, skip: Option<u32>) -> Vec<AttachmentInfo> {
    let mut out = Vec::new();
    for &id in &msg.attachments {
        let Some(part) = msg.parts.get(id as usize) else {
            continue;
        };
        if Some(id) == skip {
            if let PartType::Message(inner) = &part.body {
                out.extend(attachments(inner, None));
            }
            continue;
        }
        let disposition_attachment = part
            .content_disposition()
            .is_some_and(|d| d.ctype().eq_ignore_ascii_case("attachment"));
        if part.content_id().is_some() && !disposition_attachment {
            continue;
        }
        out.push(info(part));
    }
    out
}

fn info(part: &MessagePart) -> AttachmentInfo {
    let content_type = part.content_type().map_or_else(
        || "application/octet-stream".to_string(),
        |ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        },
    );
    let size = match &part.body {
        PartType::Message(_) => part.raw_len() as usize,
        _ => part.contents().len(),
    };
    AttachmentInfo {
        filename: part.attachment_name().map(str::to_string),
        content_type,
        size,
    }
}

/// The first attached `message/rfc822`: its part id and the message.
pub fn attached_message<'a, 'x>(msg: &'a Message<'x>) -> Option<(u32, &'a Message<'x>)> {
    msg.attachments
        .iter()
        .find_map(|&id| match &msg.parts.get(id as usize)?.body {
            PartType::Message(inner) => Some((id, inner)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            display_name("\"Virtanen, Aino\"").as_deref(),
            Some("Aino Virtanen")
        );
        assert_eq!(
            display_name("Aino Virtanen").as_deref(),
            Some("Aino Virtanen")
        );
        assert_eq!(
            display_name("Dr. Jürgen Weiß").as_deref(),
            Some("Jürgen Weiß")
        );
        assert_eq!(
            display_name("Prof. Dr. Anna Gruber").as_deref(),
            Some("Anna Gruber")
        );
        assert_eq!(display_name("aino@x.example"), None);
        assert_eq!(
            normalise_email("mailto:Aino@X.Example").as_deref(),
            Some("aino@x.example")
        );
    }
}
