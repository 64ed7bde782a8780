//! Deadlines and meetings hidden in prose: minutes and summaries say "send additional comments
//! to the mailbox by 3 May 2023", "would welcome any feedback by 14 July 2023", "the next
//! meeting is scheduled for December 2024". [`detect`] turns such sentences into proposals
//! for the secretariat to confirm.
//!
//! - **Deadline**: a date right after a deadline phrase — "by", "by latest", "no later than",
//!   "before", "until", "due", "deadline:", "avant le", "au plus tard le", "d'ici le",
//!   "jusqu'au", "bis zum", "bis spätestens", "spätestens am", "Frist:".
//! - **Meeting**: the first date after "next … meeting" (also session, webinar), "la prochaine
//!   réunion", "die nächste Sitzung"; a past meeting ("was held on") is not a proposal.
//! - Dates: see [`dates`]; years are inferred from `reference` (the mail's date).
//! - Proposals dated wholly before `reference` are dropped: they can no longer be reminded.
//! - A meeting carries the mode and place its sentence says ([`place`]): "next meeting on
//!   12 May in Brussels" is in person, in Brussels; nothing said is nothing guessed.
//! - Titles are a best effort for the secretariat to edit: for deadlines the action before the
//!   phrase, from its verb ("Send additional comments on the draft … to the ECG mailbox",
//!   "Feedback"); for meetings the "next … meeting" words.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::datespec::{DateSpec, next_month};
use super::model::Mode;

pub mod dates;
pub mod place;

/// What a phrase proposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProposalKind {
    Deadline,
    Meeting,
}

/// A deadline or meeting found in prose, awaiting confirmation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    pub kind: ProposalKind,
    pub title: String,
    pub when: DateSpec,
    /// The sentence it was found in, for the secretariat to judge.
    pub sentence: String,
    /// A meeting's mode, as the sentence says ("in Brussels": physical; see [`place`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// A meeting's place, as the sentence names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

static DEADLINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:\bby|\bbefore|\bno later than|\bnot later than|\buntil|\btill|\bon or before|\bdue(?:\s+(?:on|by))?|\bdeadline(?:\s+for\s+[^:.]{1,60}?)?(?:\s+is)?\s*:?|\bavant le|\bau plus tard le|\bd['’]ici (?:le|au)|\bjusqu['’]au|\bdate limite\s*:?|\bbis zum|\bbis spätestens(?:\s+(?:zum|am))?|\bspätestens(?:\s+(?:am|bis|zum))?|\bfrist\s*:?)\s*(?:(?:the\s+)?latest\s+|at the latest\s+|(?:close of business|cob|end of day|eod)\s+(?:on\s+)?|on\s+|the\s+)?$",
    )
    .expect("deadline pattern")
});

static NEXT_MEETING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bnext\b[^.;:]{0,40}?\b(?:meeting|session|webinar)s?\b|\bprochaine\s+(?:réunion|séance)\b|\bnächsten?\s+(?:Sitzung|Treffen|Besprechung)\b")
        .expect("meeting pattern")
});

static VERB: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:send|submit|provide|return|share|give|complete|register|apply|reply|respond|comment|confirm|upload|sign|fill in|welcome|envoyer|transmettre|soumettre|renvoyer|répondre|faire parvenir|senden|schicken|einreichen|übermitteln|zurücksenden)\b")
        .expect("verb pattern")
});

/// Deadline and meeting proposals in `text`; `reference` is the date the text was written.
pub fn detect(text: &str, reference: NaiveDate) -> Vec<Proposal> {
    let mut out: Vec<Proposal> = Vec::new();
    for sentence in sentences(text) {
        let found = dates::dates_in(&sentence, reference);
        let meeting = NEXT_MEETING.find(&sentence);
        for date in &found {
            if let Some(trigger) = DEADLINE.find(&sentence[..date.start]) {
                // "until May 2026" says how long something lasts more often than when it is due.
                let loose = trigger.as_str().to_lowercase().starts_with("unti")
                    || trigger.as_str().to_lowercase().starts_with("till");
                if loose && date.when.is_month_only() {
                    continue;
                }
                let title = deadline_title(&sentence[..trigger.start()], &sentence, date);
                out.push(Proposal {
                    kind: ProposalKind::Deadline,
                    title,
                    when: date.when.clone(),
                    sentence: sentence.clone(),
                    mode: None,
                    location: None,
                });
            }
        }
        if let Some(m) = meeting
            && let Some(date) = found.iter().find(|d| d.start >= m.end())
        {
            let title = capitalise(&squash(m.as_str()));
            let (mode, location) = place::place(&sentence);
            out.push(Proposal {
                kind: ProposalKind::Meeting,
                title,
                when: date.when.clone(),
                sentence: sentence.clone(),
                mode,
                location,
            });
        }
    }
    out.retain(|p| !ends_before(&p.when, reference));
    out.dedup_by(|a, b| a.kind == b.kind && a.when == b.when && a.sentence == b.sentence);
    out
}

fn ends_before(when: &DateSpec, reference: NaiveDate) -> bool {
    match when {
        DateSpec::Month(d) => next_month(*d) <= reference,
        other => other.first_day() < reference,
    }
}

/// Sentences of `text`: paragraphs split on blank lines, lines joined, then split after
/// `.`, `!` or `?` followed by a capital or digit — except after a 1–2 digit day ("3. Mai").
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for paragraph in text.split("\n\n") {
        let joined = squash(&paragraph.replace(['*', '_', '#'], " "));
        let chars: Vec<(usize, char)> = joined.char_indices().collect();
        let mut start = 0;
        for (i, &(pos, c)) in chars.iter().enumerate() {
            let next_starts =
                matches!(chars.get(i + 2), Some((_, n)) if n.is_uppercase() || n.is_ascii_digit());
            let spaced = matches!(chars.get(i + 1), Some((_, ' ')));
            if matches!(c, '.' | '!' | '?')
                && spaced
                && next_starts
                && !after_day_number(&joined[start..pos])
            {
                out.push(joined[start..=pos].trim().to_owned());
                start = pos + 1;
            }
        }
        let rest = joined[start..].trim();
        if !rest.is_empty() {
            out.push(rest.to_owned());
        }
    }
    out
}

fn after_day_number(before: &str) -> bool {
    let token = before.rsplit(' ').next().unwrap_or("");
    (1..=2).contains(&token.len()) && token.chars().all(|c| c.is_ascii_digit())
}

fn deadline_title(before_trigger: &str, sentence: &str, date: &dates::Found) -> String {
    let clause = before_trigger
        .rsplit([';', ':', '('])
        .next()
        .unwrap_or("")
        .trim();
    let action = match VERB.find_iter(clause).last() {
        Some(v) if v.as_str().eq_ignore_ascii_case("welcome") => clause[v.end()..].to_owned(),
        Some(v) => clause[v.start()..].to_owned(),
        None => clause
            .split_whitespace()
            .rev()
            .take(10)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join(" "),
    };
    let words: Vec<&str> = action
        .split_whitespace()
        .filter(|w| {
            !matches!(
                w.to_lowercase().as_str(),
                "their" | "your" | "its" | "any" | "all" | "ihre" | "vos" | "leurs"
            )
        })
        .collect();
    let mut title = words.join(" ");
    if title
        .trim_matches(|c: char| !c.is_alphanumeric())
        .is_empty()
    {
        title = format!("{} {}", &sentence[..date.start], &sentence[date.end..]);
    }
    let title = squash(title.trim_matches(|c: char| c.is_whitespace() || ",.:;-–".contains(c)));
    capitalise(&truncate_words(&title, 80))
}

fn truncate_words(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    for word in text.split_whitespace() {
        if out.len() + word.len() + 1 > max - 1 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.push('…');
    out
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests;
