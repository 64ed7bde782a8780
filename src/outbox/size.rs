//! Every post stays under the event size limit. A homeserver refuses an event over 65536 bytes
//! (the whole signed event, `M_TOO_LARGE`, a permanent failure); a message's content is kept
//! within [`BUDGET`], which leaves room for the event's envelope, signatures and hashes.
//! [`guard`] runs where every post is queued ([`super::Tx::matrix`]): a message over the budget
//! has its `body` and `formatted_body` cut (the HTML cut outside any tag or entity, with the
//! elements left open closed), says so, and the whole `body` is queued beside it as a text
//! file — in the same transaction, under [`Key::Overflow`], in the post's thread if it has one.

use serde_json::Value;

use super::key::Key;
use super::op::MatrixOp;

/// Bytes of serialised content a message may have.
pub const BUDGET: usize = 40 * 1024;

/// Elements that have no closing tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
    "wbr",
];

/// Content keys a message needs; the others go first when cutting the text is not enough.
const ESSENTIAL: &[&str] = &[
    "msgtype",
    "body",
    "format",
    "formatted_body",
    "m.relates_to",
    "m.mentions",
];

/// The serialised size of `content`.
pub fn size(content: &Value) -> usize {
    serde_json::to_vec(content).map_or(usize::MAX, |v| v.len())
}

/// `op` kept under the budget, and the upload of its whole text when it had to be cut.
/// Only messages (`m.room.message` posts and direct messages) are measured; an upload goes
/// beside a post in a room (a direct message's room is not known here: it is only cut).
pub fn guard(key: &Key, op: MatrixOp) -> (MatrixOp, Option<(MatrixOp, Vec<u8>)>) {
    let filename = format!("{}.txt", key.txn_text());
    match op {
        MatrixOp::Send {
            room,
            event_type,
            content,
        } if event_type == "m.room.message" && size(&content) > BUDGET => {
            let thread_root = content["m.relates_to"]
                .get("rel_type")
                .filter(|t| *t == "m.thread")
                .and_then(|_| content["m.relates_to"]["event_id"].as_str())
                .map(str::to_owned);
            let (content, full) = fit(content, BUDGET, Some(&filename));
            let upload = full.map(|text| {
                let op = MatrixOp::Upload {
                    room: room.clone(),
                    filename,
                    content_type: "text/plain; charset=utf-8".into(),
                    thread_root,
                };
                (op, text.into_bytes())
            });
            let op = MatrixOp::Send {
                room,
                event_type,
                content,
            };
            (op, upload)
        }
        MatrixOp::DirectMessage { user, content } if size(&content) > BUDGET => {
            let (content, _) = fit(content, BUDGET, None);
            (MatrixOp::DirectMessage { user, content }, None)
        }
        other => (other, None),
    }
}

/// `content` within `budget` bytes: unchanged when it fits; else with its text cut and a note
/// saying where the rest is (`attached`: the file name), and the whole original `body`.
pub fn fit(mut content: Value, budget: usize, attached: Option<&str>) -> (Value, Option<String>) {
    if size(&content) <= budget {
        return (content, None);
    }
    let full = content["body"].as_str().unwrap_or_default().to_owned();
    let html = content["formatted_body"].as_str().map(str::to_owned);
    let (note, note_html) = match attached {
        Some(name) => (
            format!(
                "\n\n[…] Cut here to stay under the event size limit; the whole text is attached \
                 as {name}."
            ),
            format!(
                "<p>[…] Cut here to stay under the event size limit; the whole text is attached \
                 as {name}.</p>"
            ),
        ),
        None => (
            "\n\n[…] Cut here to stay under the event size limit.".to_owned(),
            "<p>[…] Cut here to stay under the event size limit.</p>".to_owned(),
        ),
    };
    for pass in 0..2 {
        if pass == 1 {
            // The text alone was not the weight: drop what a message does not need.
            if let Some(object) = content.as_object_mut() {
                object.retain(|k, _| ESSENTIAL.contains(&k.as_str()));
            }
        }
        let total = full.len() + html.as_ref().map_or(0, String::len);
        let share = |len: usize, room: usize| room.saturating_mul(len) / total.max(1);
        let mut room = budget.saturating_sub(overhead(&content) + 2 * note.len() + 256);
        for _ in 0..12 {
            let body_max = share(full.len(), room);
            content["body"] = Value::String(format!(
                "{}{note}",
                crate::markup::truncate(&full, body_max)
            ));
            if let Some(h) = &html {
                let html_max = share(h.len(), room);
                content["formatted_body"] =
                    Value::String(format!("{}{note_html}", cut_html(h, html_max)));
            }
            let now = size(&content);
            if now <= budget {
                return (content, Some(full));
            }
            // JSON escaping made it larger than counted: shrink in proportion, and a bit more.
            room = room.saturating_mul(budget) / now.max(1) * 9 / 10;
        }
    }
    // Nothing else helps: the note alone.
    let mut bare =
        serde_json::json!({ "msgtype": content["msgtype"].clone(), "body": note.trim() });
    if let Some(mentions) = content.get("m.mentions") {
        bare["m.mentions"] = mentions.clone();
    }
    (bare, Some(full))
}

/// The size of `content` without its texts.
fn overhead(content: &Value) -> usize {
    let mut c = content.clone();
    c["body"] = Value::String(String::new());
    if c.get("formatted_body").is_some() {
        c["formatted_body"] = Value::String(String::new());
    }
    size(&c)
}

/// `html` cut to at most `max` bytes, never inside a tag or an entity, with the elements still
/// open at the cut closed (in order). The HTML is the bot's own or sanitised: tags are
/// well-formed enough to be read this simply.
pub fn cut_html(html: &str, max: usize) -> String {
    if html.len() <= max {
        return html.to_owned();
    }
    let bytes = html.as_bytes();
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    let mut safe = 0;
    while i < html.len() {
        match bytes[i] {
            b'<' => {
                let Some(len) = html[i..].find('>') else {
                    break;
                };
                let end = i + len + 1;
                if end > max {
                    break;
                }
                let tag = &html[i + 1..end - 1];
                let name: String = tag
                    .trim_start_matches('/')
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_ascii_lowercase();
                if tag.starts_with('/') {
                    if let Some(at) = open.iter().rposition(|t| *t == name) {
                        open.truncate(at);
                    }
                } else if !name.is_empty() && !tag.ends_with('/') && !VOID.contains(&name.as_str())
                {
                    open.push(name);
                }
                i = end;
                safe = i;
            }
            b'&' => {
                let end = html[i..]
                    .char_indices()
                    .take(12)
                    .find(|(_, c)| *c == ';')
                    .map_or(i + 1, |(n, _)| i + n + 1);
                if end > max {
                    break;
                }
                i = end;
                safe = i;
            }
            _ => {
                let next = i + html[i..].chars().next().map_or(1, char::len_utf8);
                if next > max {
                    break;
                }
                i = next;
                safe = i;
            }
        }
    }
    let mut out = html[..safe].to_owned();
    for tag in open.iter().rev() {
        out.push_str(&format!("</{tag}>"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn small_posts_are_untouched() {
        let c = crate::chat::notice_markdown("**hi**");
        let op = MatrixOp::Send {
            room: "!r".into(),
            event_type: "m.room.message".into(),
            content: c.clone(),
        };
        let (same, upload) = guard(&Key::Command("$e".into()), op.clone());
        assert_eq!(same, op);
        assert!(upload.is_none());
    }

    #[test]
    fn a_huge_post_is_cut_under_the_budget_and_its_text_attached() {
        let line = "A line with *stars*, \"quotes\", <tags> & newlines\n\n";
        let markdown = line.repeat(3000);
        let content = crate::chat::in_thread(crate::chat::notice_markdown(&markdown), "$root");
        assert!(size(&content) > 3 * BUDGET);
        let key = Key::EoiCard(7);
        let op = MatrixOp::Send {
            room: "!r".into(),
            event_type: "m.room.message".into(),
            content,
        };
        let (op, upload) = guard(&key, op);
        let MatrixOp::Send { content, .. } = op else {
            panic!("not a post")
        };
        assert!(size(&content) <= BUDGET, "{}", size(&content));
        assert!(size(&content) > BUDGET / 2, "cut far too much");
        let body = content["body"].as_str().unwrap();
        assert!(body.ends_with("attached as eoi-card-7.txt."), "{body}");
        let html = content["formatted_body"].as_str().unwrap();
        assert_eq!(html.matches("<p>").count(), html.matches("</p>").count());
        assert_eq!(content["m.relates_to"]["event_id"], "$root");
        assert_eq!(content["m.mentions"], json!({}));
        let (upload, bytes) = upload.expect("the whole text attached");
        // Not `assert_eq!`: a failure would print 150 kB.
        assert!(
            bytes == markdown.as_bytes(),
            "the attachment is not the whole text"
        );
        assert_eq!(
            upload,
            MatrixOp::Upload {
                room: "!r".into(),
                filename: "eoi-card-7.txt".into(),
                content_type: "text/plain; charset=utf-8".into(),
                thread_root: Some("$root".into()),
            }
        );
    }

    #[test]
    fn escaping_heavy_and_multibyte_text_still_fits() {
        // Every character of these doubles or sextuples when serialised.
        for unit in ["\"\\", "\u{1}\u{2}", "é€😀", "\n"] {
            let content = json!({"msgtype": "m.notice", "body": unit.repeat(60_000)});
            let (c, full) = fit(content, BUDGET, None);
            assert!(size(&c) <= BUDGET, "{unit:?}: {}", size(&c));
            assert!(full.is_some());
            assert!(c["body"].as_str().unwrap().ends_with("event size limit."));
        }
    }

    #[test]
    fn other_heavy_keys_are_dropped_last() {
        let content = json!({"msgtype": "m.notice", "body": "short", "x.big": "y".repeat(90_000)});
        let (c, _) = fit(content, BUDGET, None);
        assert!(size(&c) <= BUDGET);
        assert!(c.get("x.big").is_none());
        assert!(c["body"].as_str().unwrap().starts_with("short"));
    }

    #[test]
    fn html_is_cut_outside_tags_and_entities_and_closed() {
        let html = "<p>one &amp; <strong>two <em>three</em> four</strong></p><ul><li>x</li></ul>";
        for max in 0..html.len() {
            let cut = cut_html(html, max);
            let opened = cut.matches('<').count();
            assert_eq!(opened, cut.matches('>').count(), "{cut}");
            assert!(!cut.contains("&am;") && !cut.ends_with('&'), "{cut}");
            for t in ["p", "strong", "em", "ul", "li"] {
                assert_eq!(
                    cut.matches(&format!("<{t}>")).count(),
                    cut.matches(&format!("</{t}>")).count(),
                    "{t} in {cut} (max {max})"
                );
            }
        }
        assert_eq!(cut_html("<p>abc<br>def</p>", 12), "<p>abc<br>de</p>");
        assert_eq!(cut_html("<p>abc<br>def</p>", 9), "<p>abc</p>");
        assert_eq!(cut_html(html, html.len()), html);
    }
}
