//! A meeting's agenda in the shape of the coordination groups' programmes: numbered points,
//! each marked as a point for decision, an information point or a point for discussion, with
//! the documents it discusses linked.
//!
//! - [`parse`] reads what the secretariat writes after `!meeting agenda <id>`, one point a
//!   line: `1. Adoption of the agenda (decision)`, `2.1 Issue papers — information
//!   https://example.org/papers.pdf`. Links go at the end of the line; the marking is
//!   `(decision)`, `(information)`, `(discussion)` (or in square brackets, or after a dash)
//!   or the programme's own words at the end ("point for decision", "information point").
//! - [`markdown`] renders it for `!agenda` and the invitation's room post, titles escaped,
//!   documents as links; [`plain`] renders it for mail.
//! - Only `http(s)` links without spaces, quotes or angle brackets are documents ([`is_link`]):
//!   they go into a Markdown link destination and an ICS DESCRIPTION as they are.

use std::fmt::Write as _;

use super::model::{AgendaItem, AgendaKind};
use crate::markup;

/// A document link we are willing to put into Markdown and iCalendar as it is.
pub fn is_link(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| {
        !r.is_empty()
            && r.chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"<>\"'`\\".contains(c))
    })
}

/// The agenda written one point a line (see the module docs). Blank lines are skipped; a line
/// that is not a numbered point is an error naming it.
pub fn parse(text: &str) -> Result<Vec<AgendaItem>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        out.push(point(line).ok_or_else(|| {
            format!(
                "{:?} is not an agenda point like \"1. Adoption of the agenda (decision)\"",
                markup::truncate(line, 80)
            )
        })?);
    }
    if out.is_empty() {
        return Err("no agenda points: write one per line, \"1. Title (decision)\"".into());
    }
    Ok(out)
}

fn point(line: &str) -> Option<AgendaItem> {
    let split = line.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, rest) = line.split_at(split);
    let n = number.trim_end_matches('.');
    if n.is_empty() || !n.starts_with(|c: char| c.is_ascii_digit()) || !rest.starts_with(' ') {
        return None;
    }
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    let mut docs = Vec::new();
    while let Some(last) = words.last().filter(|w| is_link(w)) {
        docs.insert(0, (*last).to_owned());
        words.pop();
    }
    let mut title = words.join(" ");
    let kind = marking(&mut title);
    let title = title
        .trim_end_matches(|c: char| c.is_whitespace() || "—–-:,".contains(c))
        .to_owned();
    (!title.is_empty()).then(|| AgendaItem {
        n: n.to_owned(),
        title,
        kind,
        docs,
    })
}

/// Takes the marking off the end of `title`: "(decision)", "[information]", "— point for
/// discussion", "- for decision".
fn marking(title: &mut String) -> Option<AgendaKind> {
    let lower = title.to_lowercase();
    for kind in [
        AgendaKind::Decision,
        AgendaKind::Information,
        AgendaKind::Discussion,
    ] {
        let name = kind.as_str();
        let words = [
            format!("({name})"),
            format!("[{name}]"),
            format!("({})", kind.label()),
            kind.label().to_owned(),
            format!("— {name}"),
            format!("- {name}"),
        ];
        if let Some(w) = words.iter().find(|w| lower.ends_with(w.as_str())) {
            let cut = title.len() - w.len();
            // Only a whole marking: "(decision)" or after a dash, not a title ending in it.
            let before = title[..cut].trim_end();
            let marked = w.starts_with(['(', '[', '—', '-'])
                || before.ends_with(['—', '–', '-', ':', ','])
                || w.starts_with("point")
                || w.starts_with("information point");
            if marked {
                title.truncate(cut);
                return Some(kind);
            }
        }
    }
    None
}

/// The agenda for a room: "1. Adoption of the agenda — *point for decision* · [document](…)".
pub fn markdown(agenda: &[AgendaItem]) -> String {
    let mut out = String::new();
    for a in agenda {
        if !out.is_empty() {
            out.push('\n');
        }
        write!(
            out,
            "{}. {}",
            markup::escape_markdown_line(&a.n),
            markup::escape_markdown_line(&a.title)
        )
        .unwrap();
        if let Some(kind) = a.kind {
            write!(out, " — *{}*", kind.label()).unwrap();
        }
        for (i, doc) in a.docs.iter().filter(|d| is_link(d)).enumerate() {
            let name = match i {
                0 => "document".to_owned(),
                n => format!("document {}", n + 1),
            };
            write!(out, " · [{name}](<{doc}>)").unwrap();
        }
    }
    out
}

/// The agenda for a mail: one point a line, its documents below it.
pub fn plain(agenda: &[AgendaItem]) -> String {
    let mut out = String::new();
    for a in agenda {
        write!(out, "{}. {}", a.n, markup::single_line(&a.title)).unwrap();
        if let Some(kind) = a.kind {
            write!(out, " — {}", kind.label()).unwrap();
        }
        out.push('\n');
        for doc in &a.docs {
            writeln!(out, "   {doc}").unwrap();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_points_in_the_programmes_shape() {
        let text = "1. Adoption of the agenda and of the minutes (decision)\n\
                    2. Progress of the issue papers — information https://example.org/papers.pdf\n\n\
                    2.1 Good practices: point for discussion https://a.example/1 https://a.example/2\n\
                    3 Any other business";
        let got = parse(text).unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(
            (got[0].n.as_str(), got[0].title.as_str(), got[0].kind),
            (
                "1",
                "Adoption of the agenda and of the minutes",
                Some(AgendaKind::Decision)
            )
        );
        assert_eq!(got[1].title, "Progress of the issue papers");
        assert_eq!(got[1].kind, Some(AgendaKind::Information));
        assert_eq!(got[1].docs, vec!["https://example.org/papers.pdf"]);
        assert_eq!(got[2].n, "2.1");
        assert_eq!(got[2].title, "Good practices");
        assert_eq!(got[2].kind, Some(AgendaKind::Discussion));
        assert_eq!(got[2].docs.len(), 2);
        assert_eq!((got[3].n.as_str(), got[3].kind), ("3", None));
        // A title that merely ends in the word keeps it.
        let ready = &parse("4. Ready for decision").unwrap()[0];
        assert_eq!(
            (ready.title.as_str(), ready.kind),
            ("Ready for decision", None)
        );
        assert_eq!(parse("4. The decision").unwrap()[0].title, "The decision");
        assert!(
            parse("Adoption of the agenda")
                .unwrap_err()
                .contains("agenda point")
        );
        assert!(parse("\n \n").is_err());
    }

    #[test]
    fn renders_escaped_titles_and_only_plain_links() {
        let agenda = vec![AgendaItem {
            n: "1".into(),
            title: "[Approve](https://phish.example) *now*".into(),
            kind: Some(AgendaKind::Decision),
            docs: vec![
                "https://example.org/a (1).pdf".into(),
                "https://example.org/b.pdf".into(),
                "javascript:alert(1)".into(),
            ],
        }];
        let md = markdown(&agenda);
        assert!(
            md.starts_with("1. \\[Approve\\](https://phish.example) \\*now\\*"),
            "{md}"
        );
        assert!(md.contains("*point for decision*"), "{md}");
        assert_eq!(md.matches("](<").count(), 1, "{md}");
        assert!(
            md.contains("[document](<https://example.org/b.pdf>)"),
            "{md}"
        );
        assert!(!md.contains("javascript"), "{md}");
        let text = plain(&agenda);
        assert!(text.contains("1. [Approve](https://phish.example) *now* — point for decision\n"));
        assert!(text.contains("   https://example.org/b.pdf\n"));
        assert!(
            is_link("https://x.example/a?b=c#d") && !is_link("https://") && !is_link("ftp://x")
        );
    }
}
