//! Applications forwarded inline: the block below "---------- Forwarded message ---------",
//! "-------- Message transféré --------", "Begin forwarded message:", Outlook's
//! "-----Ursprüngliche Nachricht-----" (on a forward) and their translations, whose header
//! lines ("From:", "De :", "Von:", "Od:"…) name the applicant.

use std::sync::LazyLock;

use regex::Regex;

use super::source::{EMAIL, Person, display_name, normalise_email};
use super::split::{QuoteStart, quote_start};
use super::text::fold;

/// An application forwarded inline, below the forwarder's own note.
#[derive(Debug, Default)]
pub struct InlineForward {
    pub sender: Person,
    pub subject: Option<String>,
    pub body: String,
}

static HEADER_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(from|de|von|da|van|od|subject|objet|betreff|oggetto|asunto|assunto|onderwerp|temat|sujet|date|sent|envoye|gesendet|datum|data|fecha|enviado|verzonden|wyslano|inviato|to|a|an|para|aan|do|pour|cc|kopie|copie|reply-to|mittente)\s?:\s*(.*)$")
        .expect("header line regex")
});

/// Finds an inline forward block before any quoted reply. Outlook's "Original Message" block
/// counts as a forward only when the subject says so (`is_forward`): otherwise it is a reply.
pub fn inline_forward(text: &str, is_forward: bool) -> Option<InlineForward> {
    let lines: Vec<&str> = text.lines().collect();
    for i in 0..lines.len() {
        let header_start = match quote_start(&lines, i) {
            Some(QuoteStart::Forward) => i + 1,
            // The marker or rule line is followed by the header block.
            Some(QuoteStart::OutlookHeader) if is_forward => i + 1,
            Some(_) => return None,
            None => continue,
        };
        return parse_block(&lines[header_start.min(lines.len())..]);
    }
    None
}

fn parse_block(lines: &[&str]) -> Option<InlineForward> {
    let mut fwd = InlineForward::default();
    let mut i = lines.iter().take_while(|l| l.trim().is_empty()).count();
    let mut saw_from = false;
    let mut last_was_from = false;
    while let Some(line) = lines.get(i) {
        let trimmed = line.trim().trim_start_matches(['*', '>']).trim();
        if trimmed.is_empty() {
            break;
        }
        let folded = fold(trimmed).replace('*', "");
        let Some(caps) = HEADER_LINE.captures(&folded) else {
            // A wrapped "From:" value ("Aino Virtanen\n<aino@…>").
            if last_was_from && (line.starts_with([' ', '\t']) || trimmed.starts_with('<')) {
                let joined = format!(
                    "{} {}",
                    fwd.sender.name.clone().unwrap_or_default(),
                    trimmed
                );
                fwd.sender = parse_from_value(&joined);
                i += 1;
                continue;
            }
            break;
        };
        let value = trimmed
            .split_once(':')
            .map_or("", |(_, v)| v)
            .trim()
            .trim_matches('*')
            .trim();
        last_was_from = false;
        match &caps[1] {
            "from" | "de" | "von" | "da" | "van" | "od" | "mittente" if !saw_from => {
                fwd.sender = parse_from_value(value);
                saw_from = true;
                last_was_from = true;
            }
            "subject" | "objet" | "sujet" | "betreff" | "oggetto" | "asunto" | "assunto"
            | "onderwerp" | "temat" => {
                fwd.subject = Some(value.to_string()).filter(|s| !s.is_empty())
            }
            _ => {}
        }
        i += 1;
    }
    if !saw_from {
        return None;
    }
    let rest = &lines[i.min(lines.len())..];
    let quoted_all = rest
        .iter()
        .filter(|l| !l.trim().is_empty())
        .all(|l| l.trim_start().starts_with('>'));
    let body: Vec<&str> = if quoted_all {
        rest.iter().map(|line| unquote(line)).collect()
    } else {
        rest.to_vec()
    };
    fwd.body = body.join("\n").trim().to_string();
    Some(fwd)
}

/// A line without its quote marks ("> text" → "text").
fn unquote(line: &str) -> &str {
    let bare = line.trim_start().trim_start_matches('>');
    bare.strip_prefix(' ').unwrap_or(bare)
}

/// A "From:" line's value in a forwarded header block: "Name <a@b>", "Name [mailto:a@b]", "a@b".
fn parse_from_value(value: &str) -> Person {
    let email = normalise_email(value);
    let mut name = value.to_string();
    if let Some(m) = EMAIL.find(value) {
        name = value[..m.start()].to_string();
    }
    let name = name
        .trim_end_matches(['<', '[', '(', ' ', '\t'])
        .trim_end_matches("mailto:")
        .trim_end_matches(['<', '[', '(', ' ']);
    Person {
        name: display_name(name),
        email,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_blocks() {
        let text = "FYI\n\n---------- Forwarded message ---------\nFrom: Hans Müller <hans@x.example>\n\
                    Date: Mon, 7 Aug 2023\nSubject: Bewerbung\nTo: <wg@x.example>\n\nName: Hans";
        let fwd = inline_forward(text, true).unwrap();
        assert_eq!(fwd.sender.name.as_deref(), Some("Hans Müller"));
        assert_eq!(fwd.sender.email.as_deref(), Some("hans@x.example"));
        assert_eq!(fwd.subject.as_deref(), Some("Bewerbung"));
        assert_eq!(fwd.body, "Name: Hans");

        let text = "Voir ci-dessous\n\n-----Message d'origine-----\nDe : Marie Dupont \
                    [mailto:marie@x.example]\nEnvoyé : lundi\nObjet : Candidature\n\n> Nom : Dupont";
        assert!(inline_forward(text, false).is_none());
        let fwd = inline_forward(text, true).unwrap();
        assert_eq!(fwd.sender.email.as_deref(), Some("marie@x.example"));
        assert_eq!(fwd.body, "Nom : Dupont");

        let reply = "Thanks\n\nOn Mon, 7 Aug 2023, Hans <hans@x.example> wrote:\n> ---------- Forwarded message ---------";
        assert!(inline_forward(reply, true).is_none());
    }
}
