//! How a bridged mail looks in a room: a header (subject, sender, attachments), then what the
//! sender wrote now — its HTML sanitised ([`super::html`]) or its text — with the signature
//! and the quoted history folded into collapsed `<details>` ([`super::quote`]), the whole kept
//! under [`BUDGET`]. The event carries `org.convene.mail` with the ids needed to thread
//! replies.
//!
//! Rendering is pure. The caller uploads: [`Rendered::parts`] lists the attachments and the
//! inline images; once the inline ones are in the media repository, rendering again with
//! their `mxc://` URIs shows them in place. When [`Rendered::truncated`] is set, the room
//! event is incomplete and the original `.eml` should be posted in the mail's thread.

use std::collections::HashMap;

use mail_parser::{Message, MimeHeaders, PartType};
use serde_json::{Value, json};

use super::html::{self, CidImage, Fragment, Node};
use super::quote::{self, Fold, Split};

/// Largest serialised `content` of a bridged mail, in bytes. A Matrix event must stay under
/// 64 KiB in total, and in an encrypted room the content travels inside the Megolm ciphertext
/// as base64: (content + ≈1 KiB of wrapper and device keys) × 4/3, plus ≈1.5 KiB of event
/// envelope (ids, hashes, signatures). 40 KiB keeps that near 57 KiB, which leaves room for a
/// thread relation or mentions the caller adds. (48 KiB would not fit once encrypted.)
pub const BUDGET: usize = 40 * 1024;

/// Shown where the room event stops short of the mail.
pub const TRUNCATED_NOTE: &str = "[… truncated: the full mail is attached]";
const QUOTE_MARKER: &str = "[quoted text hidden]";
const SIGNATURE_MARKER: &str = "[signature hidden]";

/// Longest subject or sender shown in the header, in characters.
const MAX_HEADER_CHARS: usize = 300;
/// Attachment names listed in the header; the rest are counted.
const MAX_LISTED: usize = 20;
/// Longest subject kept in `org.convene.mail` (the RFC 5322 line limit): only a hostile mail
/// has more, and it must not blow the budget.
const MAX_META_CHARS: usize = 998;

/// A bridged mail ready to post.
#[derive(Debug)]
pub struct Rendered {
    /// The `m.room.message` content.
    pub content: Value,
    /// Something of the mail was left out to stay under [`BUDGET`]: post the original `.eml`.
    pub truncated: bool,
    /// What the caller should upload, in the mail's order.
    pub parts: Vec<Part>,
}

/// An attachment or inline image of a mail, for the caller to upload as `m.file`/`m.image`.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// Index in `Message::parts`: the bytes are `msg.part(index)?.contents()`.
    pub index: u32,
    /// A file name safe to show and to save under: no path, no control characters.
    pub filename: String,
    /// `type/subtype`, lowercase.
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
    /// The `Content-ID`, without angle brackets.
    pub content_id: Option<String>,
    /// Shown in place by the HTML body (`<img src="cid:…">`): pass its `mxc://` URI to
    /// [`render`] once uploaded. Until then it is a placeholder, and it is not listed with the
    /// attachments.
    pub inline: bool,
}

pub fn sender(msg: &Message<'_>) -> (Option<String>, Option<String>) {
    let first = msg.from().and_then(|a| a.first());
    (
        first.and_then(|a| a.name()).map(str::to_owned),
        first.and_then(|a| a.address()).map(str::to_owned),
    )
}

/// The room event of a mail, without inline images uploaded. See [`render`].
pub fn mail_event(msg: &Message<'_>, inbound_id: i64, note: Option<&str>) -> Value {
    render(msg, inbound_id, note, &|_| None).content
}

/// The parts of a mail to upload. The same list as [`Rendered::parts`].
pub fn parts(msg: &Message<'_>) -> Vec<Part> {
    let mut parts = collect_parts(msg);
    if let Some(source) = html_source(msg) {
        let cids = html::sanitize(&source, &|_| CidImage::Missing { name: None }).cids;
        mark_inline(&mut parts, &cids);
    }
    parts
}

/// Renders a mail for a room. `uploaded` maps a part's content id to its `mxc://` URI, for
/// the inline images already uploaded (`&|_| None` when none are).
pub fn render(
    msg: &Message<'_>,
    inbound_id: i64,
    note: Option<&str>,
    uploaded: &dyn Fn(&str) -> Option<String>,
) -> Rendered {
    let raw_subject = msg.subject().unwrap_or("(no subject)").trim();
    let subject = one_line(raw_subject, MAX_HEADER_CHARS);
    let (name, address) = sender(msg);
    let from = match (&name, &address) {
        (Some(n), Some(a)) => format!("{n} <{a}>"),
        (None, Some(a)) => a.clone(),
        (Some(n), None) => n.clone(),
        (None, None) => "(unknown sender)".into(),
    };
    let from = one_line(&from, MAX_HEADER_CHARS);
    let fold = if quote::is_forward(raw_subject) {
        Fold::SignatureOnly
    } else {
        Fold::QuoteAndSignature
    };

    let mut parts = collect_parts(msg);
    let html_split = html_source(msg).map(|source| {
        let by_cid: HashMap<String, &Part> = parts
            .iter()
            .filter_map(|p| Some((p.content_id.clone()?.to_ascii_lowercase(), p)))
            .collect();
        let resolve = |cid: &str| match by_cid.get(&cid.to_ascii_lowercase()) {
            Some(part) => match part.content_id.as_deref().and_then(uploaded) {
                Some(mxc) => CidImage::Uploaded { mxc },
                None => CidImage::Missing {
                    name: Some(part.filename.clone()),
                },
            },
            None => CidImage::Missing { name: None },
        };
        let sanitized = html::sanitize(&source, &resolve);
        let split = quote::split_html(sanitized.fragment, fold);
        (split, sanitized.cids, sanitized.cut)
    });
    let mut cut = false;
    if let Some((_, cids, html_cut)) = &html_split {
        mark_inline(&mut parts, cids);
        cut = *html_cut;
    }
    let html_split = html_split.map(|(split, _, _)| split);
    let text_split = text_source(msg).map(|t| quote::split_text(&t, fold));

    // The text body: the text part, or the text rendering of the HTML one.
    let (new_text, signature_folded, quote_folded) = match (&text_split, &html_split) {
        (Some(t), _) => (t.new.clone(), t.signature.is_some(), t.quoted.is_some()),
        (None, Some(h)) => (h.new.to_text(), h.signature.is_some(), h.quoted.is_some()),
        (None, None) => (String::new(), false, false),
    };
    let mut plain_text = new_text.trim_end().to_owned();
    for (folded, marker) in [
        (signature_folded, SIGNATURE_MARKER),
        (quote_folded, QUOTE_MARKER),
    ] {
        if folded {
            if !plain_text.is_empty() {
                plain_text.push_str("\n\n");
            }
            plain_text.push_str(marker);
        }
    }
    // The HTML body: the HTML part, or the text one shown as HTML.
    let shown = match (html_split, text_split) {
        (Some(h), _) => h,
        (None, Some(t)) => Split {
            new: Fragment::from_text(t.new.trim_end()),
            signature: t.signature.map(|s| Fragment::from_text(&s)),
            quoted: t.quoted.map(|q| Fragment::from_text(&q)),
        },
        (None, None) => Split {
            new: Fragment::default(),
            signature: None,
            quoted: None,
        },
    };

    let listed: Vec<&str> = parts
        .iter()
        .filter(|p| !p.inline)
        .map(|p| p.filename.as_str())
        .collect();
    let attachments = list_names(&listed);
    let note = note.map(|n| one_line(n, MAX_HEADER_CHARS));

    let mut header_plain = format!("✉ {subject}\nFrom: {from}\n");
    let mut header = vec![
        Node::text("✉ "),
        Node::element("strong", vec![Node::text(subject.clone())]),
        Node::element("br", vec![]),
        Node::text(format!("From: {from}")),
    ];
    if let Some(attachments) = &attachments {
        header_plain.push_str(&format!("Attachments: {attachments}\n"));
        header.push(Node::element("br", vec![]));
        header.push(Node::text(format!("Attachments: {attachments}")));
    }
    if let Some(note) = &note {
        header_plain.push_str(&format!("({note})\n"));
        header.push(Node::element("br", vec![]));
        header.push(Node::element("em", vec![Node::text(note.clone())]));
    }
    header_plain.push('\n');

    let mut mail = shown.new.0;
    for (folded, summary) in [
        (shown.signature, "Signature"),
        (shown.quoted, "Quoted text"),
    ] {
        if let Some(folded) = folded {
            let mut children = vec![Node::element("summary", vec![Node::text(summary)])];
            children.extend(folded.0);
            mail.push(Node::element("details", children));
        }
    }
    let doc = Fragment(vec![
        Node::element("p", header),
        Node::element("blockquote", mail),
    ]);

    let metadata = json!({
        "inbound_id": inbound_id,
        "message_id": msg.message_id().map(|id| clip(id, MAX_META_CHARS)),
        "from": address.as_deref().map(|a| clip(a, MAX_META_CHARS)),
        "subject": clip(raw_subject, MAX_META_CHARS),
    });
    let (content, truncated) = fit(&header_plain, &plain_text, &doc, metadata, cut);
    Rendered {
        content,
        truncated,
        parts,
    }
}

fn content(body: &str, formatted: &str, metadata: &Value) -> Value {
    json!({
        "msgtype": "m.text",
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": formatted,
        "org.convene.mail": metadata,
    })
}

fn json_size(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(usize::MAX, |b| b.len())
}

/// Bytes `s` takes inside a JSON string, as serde_json escapes it.
fn json_len(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum()
}

/// The content, cut to [`BUDGET`] if it must be: the header is kept, the mail's text and HTML
/// share what is left in proportion to their size, each cut at its end (the folded parts go
/// first, being last), and the note is added to both. `incomplete`: something was already
/// left out upstream (HTML too large to read whole), so the note is due anyway.
fn fit(
    header_plain: &str,
    text: &str,
    doc: &Fragment,
    metadata: Value,
    incomplete: bool,
) -> (Value, bool) {
    let full_html = doc.to_html();
    let full = content(&format!("{header_plain}{text}"), &full_html, &metadata);
    if !incomplete && json_size(&full) <= BUDGET {
        return (full, false);
    }
    let note_plain = format!("\n\n{TRUNCATED_NOTE}");
    let note_html = Fragment(vec![Node::element(
        "p",
        vec![Node::element("em", vec![Node::text(TRUNCATED_NOTE)])],
    )])
    .to_html();
    let fixed = json_size(&content("", "", &metadata))
        + json_len(header_plain)
        + json_len(&note_plain)
        + json_len(&note_html);
    let avail = BUDGET.saturating_sub(fixed);
    let (b, h) = (json_len(text), json_len(&full_html));
    // In u128: a 25 MiB mail times the budget overflows a 32-bit usize.
    let share = avail as u128 * b as u128 / (b as u128 + h as u128).max(1);
    let mut body_max = usize::try_from(share).unwrap_or(avail).min(avail);
    let mut html_max = avail - body_max;
    if b < body_max {
        html_max += body_max - b;
        body_max = b;
    } else if h < html_max {
        body_max += html_max - h;
        html_max = h;
    }
    let body = format!("{header_plain}{}{note_plain}", cut_text(text, body_max));
    let (doc, _) = doc.truncated(html_max, &json_len);
    let html = format!("{}{note_html}", doc.to_html());
    let cut = content(&body, &html, &metadata);
    if json_size(&cut) <= BUDGET {
        return (cut, true);
    }
    // Only reachable if the arithmetic above is wrong: never post an event the server refuses.
    tracing::warn!("mail rendering over budget after truncation; posting the header only");
    let minimal = content(
        &format!("{header_plain}{TRUNCATED_NOTE}"),
        &note_html,
        &metadata,
    );
    (minimal, true)
}

/// The longest prefix of `text` costing at most `max` JSON bytes, ending on a character (and
/// on a word when one ends nearby).
fn cut_text(text: &str, max: usize) -> &str {
    let mut used = 0;
    let mut end = 0;
    for (i, c) in text.char_indices() {
        used += json_len(c.encode_utf8(&mut [0; 4]));
        if used > max {
            break;
        }
        end = i + c.len_utf8();
    }
    let kept = &text[..end];
    match kept.rfind(char::is_whitespace) {
        Some(sp) if end - sp < 40 && end < text.len() => kept[..sp].trim_end(),
        _ => kept,
    }
}

/// Header text: one line (a name with a line break could forge a header line in `body`), no
/// bidirectional overrides (they disguise file names), at most `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)));
    let mut space = false;
    for c in s.chars() {
        if matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
        {
            continue;
        }
        if c.is_control() || c.is_whitespace() {
            if !space && !out.is_empty() {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    let out = out.trim_end();
    if out.chars().count() > max {
        let mut cut: String = out.chars().take(max - 1).collect();
        cut.push('…');
        cut
    } else {
        out.to_owned()
    }
}

fn clip(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn list_names(names: &[&str]) -> Option<String> {
    if names.is_empty() {
        return None;
    }
    let mut shown: Vec<String> = names
        .iter()
        .take(MAX_LISTED)
        .map(|n| one_line(n, 80))
        .collect();
    if names.len() > MAX_LISTED {
        shown.push(format!("and {} more", names.len() - MAX_LISTED));
    }
    Some(shown.join(", "))
}

/// The HTML body: every HTML body part, in order (Apple Mail splits one around images).
fn html_source(msg: &Message<'_>) -> Option<String> {
    let parts: Vec<&str> = msg
        .html_bodies()
        .filter_map(|p| match &p.body {
            PartType::Html(h) => Some(h.as_ref()),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.concat())
}

/// The text body: every text body part, in order.
fn text_source(msg: &Message<'_>) -> Option<String> {
    let parts: Vec<&str> = msg
        .text_bodies()
        .filter_map(|p| match &p.body {
            PartType::Text(t) => Some(t.as_ref()),
            _ => None,
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("\n\n"))
}

fn collect_parts(msg: &Message<'_>) -> Vec<Part> {
    msg.attachments
        .iter()
        .filter_map(|&index| {
            let part = msg.part(index)?;
            let content_type = part
                .content_type()
                .map(|ct| match &ct.c_subtype {
                    Some(sub) => format!("{}/{sub}", ct.c_type),
                    None => ct.c_type.to_string(),
                })
                .unwrap_or_else(|| {
                    match part.body {
                        PartType::Text(_) => "text/plain",
                        PartType::Html(_) => "text/html",
                        PartType::Message(_) => "message/rfc822",
                        _ => "application/octet-stream",
                    }
                    .to_owned()
                })
                .to_ascii_lowercase();
            let name = part.attachment_name().map(str::to_owned).or_else(|| {
                let nested = part.message()?;
                Some(format!("{}.eml", nested.subject().unwrap_or("message")))
            });
            let content_id = part
                .content_id()
                .map(|id| id.trim().trim_matches(['<', '>']).to_owned())
                .filter(|id| !id.is_empty());
            Some(Part {
                index,
                filename: filename(name.as_deref(), index, &content_type),
                content_type,
                size: part.len(),
                content_id,
                inline: false,
            })
        })
        .collect()
}

fn shorten_keeping_extension(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_owned();
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= 10 => {
            let stem: String = stem.chars().take(max - ext.chars().count() - 2).collect();
            format!("{stem}….{ext}")
        }
        _ => one_line(name, max),
    }
}

fn mark_inline(parts: &mut [Part], cids: &[String]) {
    for part in parts {
        part.inline = part
            .content_id
            .as_deref()
            .is_some_and(|id| cids.iter().any(|c| c.eq_ignore_ascii_case(id)));
    }
}

/// The file name of a mail's original: its subject, made safe, with `.eml`.
pub fn eml_name(subject: &str) -> String {
    let stem = one_line(subject, 80);
    let stem: String = stem
        .chars()
        .map(|c| if "/\\:*?\"<>|".contains(c) { '_' } else { c })
        .collect();
    let stem = stem.trim_start_matches('.').trim();
    if stem.is_empty() {
        "original.eml".into()
    } else {
        format!("{stem}.eml")
    }
}

/// Longest file name kept, in characters.
const MAX_FILENAME_CHARS: usize = 120;

/// A file name safe to show and to save under: the last path segment, one line, no leading
/// dots, shortened before its extension; `part-<n>.<subtype>` when the mail gives none.
fn filename(name: Option<&str>, index: u32, content_type: &str) -> String {
    let cleaned = name
        .map(|n| n.rsplit(['/', '\\']).next().unwrap_or(n))
        .map(|n| one_line(n, usize::MAX))
        .map(|n| n.trim_start_matches('.').trim().to_owned())
        .filter(|n| !n.is_empty())
        .map(|n| shorten_keeping_extension(&n, MAX_FILENAME_CHARS));
    cleaned.unwrap_or_else(|| {
        let ext = content_type
            .split_once('/')
            .map(|(_, sub)| sub)
            .filter(|sub| sub.len() <= 5 && sub.bytes().all(|b| b.is_ascii_alphanumeric()));
        match ext {
            Some(ext) => format!("part-{index}.{ext}"),
            None => format!("part-{index}"),
        }
    })
}

#[cfg(test)]
mod tests;
