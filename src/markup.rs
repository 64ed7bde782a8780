//! Making text that came from mail inert before it enters a Matrix event.
//!
//! Everything the bot builds from a mail — applicant fields, subjects, file names, sentences
//! quoted in proposals, the name of an unknown command — is written by whoever sent the mail.
//! This module owns the one set of rules that turns such a value into text that shows
//! literally, whatever it contains. It is pure and imports nothing else from the crate.
//!
//! # Which helper for which place
//! - A value inside Markdown given to `RoomMessageEventContent::notice_markdown` (which renders
//!   CommonMark with tables and strikethrough, through pulldown-cmark): [`escape_markdown`], or
//!   [`escape_markdown_line`] in a table cell, a list item's label or anywhere one line is
//!   expected. [`code`] shows a value as inline code.
//! - A value inside hand-built `formatted_body` HTML: [`escape_html`].
//! - A value inside a plain `body` (no markup at all): [`plain_text`].
//! - A value in a mail header or shown on one line: [`single_line`].
//! - A long value: [`truncate`] it **before** escaping, never after — cutting an escaped string
//!   can leave a lone `\` that escapes whatever the template puts next.
//! - Every event whose text holds a value from mail: [`with_mentions`], so that only the users
//!   the bot means to notify are notified.
//!
//! # What every escaping helper does first
//! 1. Line breaks (`\r\n`, `\r`, U+2028, U+2029) become `\n`; tabs and every other control
//!    character become a space.
//! 2. Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) become
//!    U+FFFD, so `invoice\u{202E}fdp.exe` cannot pass for `invoiceexe.pdf` and the trick shows.
//!    The plain marks LRM, RLM and ALM stay: right-to-left names need them and they cannot
//!    reorder Latin text.
//! 3. Invisible characters that only serve to hide or split text are removed: U+200B, U+2060–
//!    U+2064, U+FEFF, U+180E and the tag characters U+E0000–U+E007F. ZWJ and ZWNJ stay (emoji
//!    sequences, Persian and Indic scripts need them).
//! 4. Mentions are defused: an `@` that starts a word (not preceded by a letter, digit or `_`,
//!    and followed by something) gets a word joiner (U+2060) after it. `@room` and
//!    `@mallory:evil.example` then neither match the legacy push rules on the plain body
//!    (`@room` at a word boundary) nor look like a user id to a client, while an e-mail address
//!    (`alice@example.org`, the `@` after a letter) stays as it is.
//!
//! Push rules that match a member's display name or user name anywhere in the body cannot be
//! defused in the text; [`with_mentions`] turns them off (MSC3952: a client or server that
//! knows `m.mentions` ignores those legacy rules once the key is present).
//!
//! Bare URLs are not touched: clients linkify them, and the link then shows its own target.
//! The danger is a link whose text differs from where it goes, which escaping prevents.

use std::borrow::Cow;

use serde_json::{Value, json};

/// The word joiner put after a defused `@`: invisible, and not a word boundary.
const WORD_JOINER: char = '\u{2060}';

/// Stands in for a removed bidi control, so that the trick stays visible.
const REPLACEMENT: char = '\u{FFFD}';

/// Put on an empty line inside a value: the value stays one paragraph (a blank line would end
/// the list item or quote the template put it in) and the empty line still shows.
const NBSP: char = '\u{00A0}';

/// Appended by [`truncate`].
pub const ELLIPSIS: &str = "…";

/// Escapes `s` for HTML text or a quoted attribute value: `& < > " '` become entities, after the
/// normalisation every helper applies (see the module documentation). Line breaks stay `\n`;
/// the caller decides whether they become `<br>`.
pub fn escape_html(s: &str) -> String {
    let text = defuse_mentions(&normalise(s));
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `s` as inert plain text, for a `body` that is not Markdown: the normalisation every helper
/// applies (line breaks kept as `\n`), mentions defused, nothing escaped.
pub fn plain_text(s: &str) -> String {
    defuse_mentions(&normalise(s))
}

/// Escapes `s` so that, rendered as CommonMark (with tables and strikethrough), it shows
/// literally and produces no element but paragraphs and line breaks.
///
/// After the normalisation every helper applies:
/// - `\` `` ` `` `*` `[` `]` `<` `~` `|` are backslash-escaped wherever they are: no emphasis,
///   code span, link, image, reference, autolink, raw HTML, strikethrough or table cell can
///   start inside the value or pair with markup of the template around it.
/// - `&` is escaped where it could start an entity (before `#`, an ASCII letter or digit, or at
///   the end of the value), so `&lt;script&gt;` shows as written; `R&D` and `R & D` stay.
/// - `_` is escaped unless it sits between two letters or digits, where CommonMark never reads
///   it as emphasis (`snake_case`, `first_last@example.org` stay readable).
/// - At the start of every line (and of the value, since the template may put it at one),
///   after leading spaces are dropped: `#`, `>`, `-`, `+`, `=` and the `.` or `)` after leading
///   digits are escaped, so no heading, quote, list, thematic break or setext underline starts.
///   Leading spaces would make an indented code block and mean nothing in a paragraph anyway;
///   trailing spaces would make a hard break: both are dropped.
/// - Blank lines at either end are dropped; a run of blank lines inside becomes one line
///   holding a no-break space, so the value stays one paragraph. Each remaining `\n` renders
///   as a line break.
///
/// The value must go where text goes: not into a link destination, a code span (use [`code`])
/// or an HTML attribute. In a table cell, use [`escape_markdown_line`].
pub fn escape_markdown(s: &str) -> String {
    let text = defuse_mentions(&normalise(s));
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut pending_blank = false;
    let mut first = true;
    for line in text.split('\n') {
        let line = line.trim_matches(' ');
        if line.is_empty() {
            pending_blank = !first;
            continue;
        }
        if !first {
            out.push('\n');
            if pending_blank {
                out.push(NBSP);
                out.push('\n');
            }
        }
        escape_line(line, &mut out);
        first = false;
        pending_blank = false;
    }
    out
}

/// [`escape_markdown`] of [`single_line`]`(s)`: for table cells, list-item labels and anything
/// else that must stay on one line.
pub fn escape_markdown_line(s: &str) -> String {
    escape_markdown(&single_line(s))
}

/// `s` as an inline code span, shown literally: on one line, mentions defused, fenced with one
/// backtick more than the longest run of backticks inside and padded with a space where it
/// starts or ends with a backtick or a space (CommonMark strips one such space). Backslash
/// escapes do not work inside code spans, which is why this needs a helper of its own.
/// Not for table cells: a `|` inside a code span still splits the cell there.
pub fn code(s: &str) -> String {
    let text = defuse_mentions(&single_line(&normalise(s)));
    if text.is_empty() {
        return "` `".to_string();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with(['`', ' ']) || text.ends_with(['`', ' ']) {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// `content` with `m.mentions` set to exactly `user_ids` (none: `{}`), and never `room`.
///
/// Any event that carries text from mail should go through this: a client or server that
/// knows intentional mentions then notifies only these users, whatever the text says —
/// including a member's display name, which no escaping can hide. Content that is not a JSON
/// object is returned unchanged. For an edit, set the new content's mentions as well.
pub fn with_mentions<S: AsRef<str>>(mut content: Value, user_ids: &[S]) -> Value {
    let mut ids: Vec<&str> = Vec::with_capacity(user_ids.len());
    for id in user_ids {
        let id = id.as_ref();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let mentions = if ids.is_empty() {
        json!({})
    } else {
        json!({ "user_ids": ids })
    };
    if let Some(object) = content.as_object_mut() {
        object.insert("m.mentions".to_string(), mentions);
    }
    content
}

/// `s` cut to at most `max_bytes` bytes on a character boundary, ending in [`ELLIPSIS`] when
/// something was cut (the ellipsis counts towards `max_bytes`; below its 3 bytes there is no
/// room for it and the bare prefix is returned). Whitespace before the ellipsis is dropped.
/// Truncate the raw value, then escape it.
pub fn truncate(s: &str, max_bytes: usize) -> Cow<'_, str> {
    if s.len() <= max_bytes {
        return Cow::Borrowed(s);
    }
    if max_bytes < ELLIPSIS.len() {
        return Cow::Borrowed(&s[..s.floor_char_boundary(max_bytes)]);
    }
    let cut = s.floor_char_boundary(max_bytes - ELLIPSIS.len());
    Cow::Owned(format!("{}{ELLIPSIS}", s[..cut].trim_end()))
}

/// `s` on one line: `\r\n` and every other line break (`\r`, `\n`, U+0085, U+2028, U+2029),
/// tabs and all other control characters become one space each. Nothing else changes. This
/// is what a value needs before it goes into a mail header (no header injection) or onto a
/// line of its own in a room.
pub fn single_line(s: &str) -> Cow<'_, str> {
    let breaks = |c: char| c.is_control() || c == '\u{2028}' || c == '\u{2029}';
    if !s.contains(breaks) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            chars.next();
        }
        out.push(if breaks(c) { ' ' } else { c });
    }
    Cow::Owned(out)
}

/// The normalisation every escaping helper applies first: steps 1–3 of the module
/// documentation.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push('\n');
            }
            '\n' | '\u{2028}' | '\u{2029}' => out.push('\n'),
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => out.push(REPLACEMENT),
            '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{180E}' => {}
            '\u{E0000}'..='\u{E007F}' => {}
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Step 4 of the module documentation.
fn defuse_mentions(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '@'
            && !prev.is_some_and(|p| p.is_alphanumeric() || p == '_')
            && chars.peek().is_some_and(|n| !n.is_whitespace())
        {
            out.push(WORD_JOINER);
        }
        prev = Some(c);
    }
    out
}

/// Escapes one line (no `\n`, no leading or trailing space) into `out`.
fn escape_line(line: &str, out: &mut String) {
    let chars: Vec<char> = line.chars().collect();
    let mut start = 0;
    match chars[0] {
        '#' | '>' | '-' | '+' | '=' => {
            out.push('\\');
            out.push(chars[0]);
            start = 1;
        }
        c if c.is_ascii_digit() => {
            let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
            if matches!(chars.get(digits), Some('.' | ')')) {
                out.extend(&chars[..digits]);
                out.push('\\');
                out.push(chars[digits]);
                start = digits + 1;
            }
        }
        _ => {}
    }
    for i in start..chars.len() {
        let c = chars[i];
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let escape = match c {
            '\\' | '`' | '*' | '[' | ']' | '<' | '~' | '|' => true,
            '_' => {
                !(prev.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric))
            }
            '&' => next.is_none_or(|n| n == '#' || n.is_ascii_alphanumeric()),
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// `text` with the local part of every mail address replaced by `…` (`…@example.org`), for
/// log lines at `info` and above: a server's refusal names the recipient, the log must not.
pub fn mask_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('@') {
        let local_start = rest[..at]
            .rfind(|c: char| !(c.is_alphanumeric() || "._%+-!#$&'*/=?^`{|}~".contains(c)))
            .map_or(0, |i| {
                i + rest[i..].chars().next().map_or(1, char::len_utf8)
            });
        let has_domain = rest[at + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric());
        out.push_str(&rest[..local_start]);
        if local_start < at && has_domain {
            out.push('…');
        } else {
            out.push_str(&rest[local_start..at]);
        }
        out.push('@');
        rest = &rest[at + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
