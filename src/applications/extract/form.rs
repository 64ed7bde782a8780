//! Labelled forms: "Name: …", "Organisation :", "Vorname/Nachname:", "Imię i nazwisko:" and
//! HTML tables rendered as `label<TAB>value`, in the eight languages.
//!
//! A line is a field when its label (folded, parentheses, `*` and "(s)" removed) is in the
//! table below; unknown labels ("Tel:", "Note:") are ordinary text. A label alone on its line
//! takes the next line as its value; bulleted lines continue any value; a motivation runs on
//! over line breaks and paragraphs until the next known label or a "thank you"/"looking
//! forward" paragraph. Ticked boxes ("[x] Digital [ ] Health", "☒ Member ☐ Expert") keep only
//! the ticked items. Lines that are not fields are kept, in order, as leftover prose.

use std::sync::LazyLock;

use regex::Regex;

pub use super::labels::Field;
use super::labels::TABLE;
use super::text::{clean_value, fold, squash};

static LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:[-*•·▪►]\s+)?(?:\d{1,2}[.)]\s+)?([^:：\t]{1,60}?)\s*(?:[:：]|\t)\s*(.*)$")
        .expect("form line regex")
});

static PARENS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\([^)]*\)").expect("parens"));

static STOP_PARAGRAPH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(thank|thanks|many thanks|looking forward|we look forward|i look forward|please (do not|don't|let|contact|feel)|do not hesitate|merci|n'hesitez|je reste|nous restons|dans l'attente|vielen dank|danke|ich freue|wir freuen|fur ruckfragen|grazie|resto a|restiamo a|in attesa|gracias|quedo a|quedamos a|obrigad|fico a|ficamos a|bedankt|dank u|ik kijk|wij kijken|dziekuj|pozostaj|czekam|w oczekiwaniu)")
        .expect("stop paragraph regex")
});

const BULLETS: [char; 6] = ['-', '*', '•', '·', '▪', '►'];

/// The fields found in a text and what was left over.
#[derive(Debug, Default)]
pub struct Form {
    pub fields: Vec<(Field, String)>,
    /// The lines that are not part of any field, in order.
    pub leftover: String,
}

impl Form {
    /// The first non-empty value given for `field`.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.all(field).next()
    }

    /// Every non-empty value given for `field`, in order.
    pub fn all(&self, field: Field) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .filter(move |(f, v)| *f == field && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// How many distinct application fields (beyond name and e-mail) were given.
    pub fn application_fields(&self) -> usize {
        [
            Field::Organisation,
            Field::StakeholderType,
            Field::Country,
            Field::Region,
            Field::Group,
            Field::Partnership,
            Field::Role,
            Field::Motivation,
        ]
        .iter()
        .filter(|f| self.get(**f).is_some())
        .count()
    }

    /// The person's name from full-name or first/last-name fields.
    pub fn person_name(&self) -> Option<String> {
        let first = self.get(Field::FirstName);
        let last = self.get(Field::LastName);
        let name = self.get(Field::Name);
        let combined = match (first, last, name) {
            // With a separate first-name field, "Nom"/"Name"/"Naam" is the surname.
            (Some(f), _, Some(n)) | (Some(f), Some(n), None) => Some(format!("{f} {n}")),
            (None, Some(l), Some(n)) => Some(format!("{n} {l}")),
            (None, None, Some(n)) => Some(n.to_string()),
            (Some(only), None, None) | (None, Some(only), None) => Some(only.to_string()),
            (None, None, None) => self
                .get(Field::NameLastFirst)
                .map(|v| match v.split_once(',') {
                    Some((last, first)) => format!("{} {}", first.trim(), last.trim()),
                    None => v.to_string(),
                }),
        };
        combined.and_then(|n| super::source::strip_honorifics(&squash(&n)))
    }
}

/// The field a label names, if it is one we know.
pub fn field_for_label(raw: &str) -> Option<Field> {
    let key = label_key(raw);
    if key.is_empty() || key.split_whitespace().count() > 6 {
        return None;
    }
    if let Some(field) = TABLE.get(key.as_str()) {
        return Some(*field);
    }
    // Plurals: "Working groups", "Roles".
    if let Some(field) = key.strip_suffix('s').and_then(|k| TABLE.get(k)) {
        return Some(*field);
    }
    if key.contains('/') {
        let parts: Vec<Option<Field>> = key
            .split('/')
            .map(|p| TABLE.get(p.trim()).copied())
            .collect();
        let known: Vec<Field> = parts.iter().flatten().copied().collect();
        let names = [Field::Name, Field::FirstName, Field::LastName];
        if known.len() > 1 && known.iter().all(|f| names.contains(f)) {
            return Some(Field::Name);
        }
        return known.first().copied();
    }
    let starts = |words: &[&str]| words.iter().any(|w| key.starts_with(w));
    if starts(&[
        "why ", "pourquoi", "warum", "perche", "por que", "porque", "waarom", "dlaczego",
    ]) {
        return Some(Field::Motivation);
    }
    if key.contains("motivation") || key.contains("motivazione") || key.contains("motivacion") {
        return Some(Field::Motivation);
    }
    if key.contains("matrix") {
        return Some(Field::Matrix);
    }
    None
}

fn label_key(raw: &str) -> String {
    let folded = fold(raw);
    let no_parens = PARENS.replace_all(&folded, " ");
    let cleaned: String = no_parens
        .chars()
        .filter(|c| !matches!(c, '*' | '_' | '#' | '•' | '?' | '.'))
        .collect();
    let mut key = squash(&cleaned).replace(" / ", "/");
    for prefix in [
        "your ", "the ", "votre ", "ihre ", "ihr ", "il tuo ", "la tua ", "tu ", "su ", "o seu ",
        "a sua ", "uw ", "jouw ", "twoja ", "twoj ",
    ] {
        if let Some(rest) = key.strip_prefix(prefix) {
            key = rest.to_string();
        }
    }
    key
}

/// Splits `text` (the applicant's own text, greeting and signature removed) into fields.
pub fn parse(text: &str) -> Form {
    let mut form = Form::default();
    let mut leftover: Vec<&str> = Vec::new();
    let mut current: Option<(Field, Vec<String>)> = None;
    let mut blank_before = false;
    let lines: Vec<&str> = text.lines().collect();

    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            blank_before = true;
            leftover.push("");
            continue;
        }
        if let Some((field, value)) = labelled(line) {
            finish(&mut form, current.take());
            current = Some((field, vec![value]));
            blank_before = false;
            continue;
        }
        let follow = match &current {
            Some((Field::Motivation, _)) => {
                !(blank_before && STOP_PARAGRAPH.is_match(&fold(trimmed)))
            }
            Some((_, values)) => {
                let empty = values.iter().all(|v| v.is_empty());
                let bullet = trimmed.starts_with(BULLETS) || is_checkbox(trimmed);
                empty || (bullet && !blank_before)
            }
            None => false,
        };
        if follow && let Some((field, values)) = current.as_mut() {
            if *field == Field::Motivation && blank_before && values.iter().any(|v| !v.is_empty()) {
                values.push(String::new());
            }
            values.push(trimmed.to_string());
            blank_before = false;
            continue;
        }
        finish(&mut form, current.take());
        blank_before = false;
        leftover.push(lines[i]);
    }
    finish(&mut form, current.take());
    form.leftover = collapse_blank_lines(&leftover);
    form
}

fn collapse_blank_lines(lines: &[&str]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in lines {
        if line.trim().is_empty() && out.last().is_none_or(|l| l.trim().is_empty()) {
            continue;
        }
        out.push(line);
    }
    out.join("\n").trim().to_string()
}

fn labelled(line: &str) -> Option<(Field, String)> {
    let caps = LINE.captures(line)?;
    let field = field_for_label(caps.get(1)?.as_str())?;
    let value = caps.get(2).map_or("", |m| m.as_str());
    // "**Name:** Aino": the closing emphasis of a markdown label sticks to the value.
    let value = value.trim_start_matches([':', ' ', '\t', '*', '_']).trim();
    Some((field, value.to_string()))
}

fn finish(form: &mut Form, current: Option<(Field, Vec<String>)>) {
    let Some((field, values)) = current else {
        return;
    };
    if field == Field::Ignore {
        return;
    }
    let value = if field == Field::Motivation {
        let paragraphs: Vec<String> = values
            .split(String::is_empty)
            .map(|p| squash(&p.join(" ")))
            .filter(|p| !p.is_empty())
            .collect();
        paragraphs.join("\n\n")
    } else {
        let items: Vec<String> = values
            .iter()
            .map(|v| ticked(v.trim_start_matches(BULLETS).trim()))
            .filter(|v| !v.is_empty())
            .collect();
        clean_value(&items.join("; "))
    };
    form.fields.push((field, value));
}

static CHECKBOX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[\s*[xX✓✔]?\s*\]|\(\s*[xX]?\s*\)|[☐☒☑□■✓✔]").expect("checkbox regex")
});

fn is_checkbox(s: &str) -> bool {
    CHECKBOX.find(s).is_some_and(|m| m.start() == 0)
}

/// Keeps only ticked items when a value is a row of check boxes.
fn ticked(value: &str) -> String {
    let marks: Vec<_> = CHECKBOX.find_iter(value).collect();
    // Only a value that *starts* with a box is a row of boxes ("Digital ✓" is not).
    if marks.first().is_none_or(|m| m.start() != 0) {
        return value.to_string();
    }
    let mut kept = Vec::new();
    for (n, mark) in marks.iter().enumerate() {
        let end = marks.get(n + 1).map_or(value.len(), |next| next.start());
        let text = value[mark.end()..end]
            .trim()
            .trim_end_matches([',', ';', '|'])
            .trim();
        let on = mark
            .as_str()
            .chars()
            .any(|c| matches!(c, 'x' | 'X' | '☒' | '☑' | '■' | '✓' | '✔'));
        if on && !text.is_empty() {
            kept.push(text.to_string());
        }
    }
    kept.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_in_eight_languages() {
        for (label, field) in [
            ("Name", Field::Name),
            ("Organisation ", Field::Organisation),
            ("Nom ", Field::Name),
            ("Organisme", Field::Organisation),
            ("Vorname/Nachname", Field::Name),
            ("Organisation/Einrichtung", Field::Organisation),
            ("Nome e cognome", Field::Name),
            ("Ente", Field::Organisation),
            ("Organización", Field::Organisation),
            ("Entidade", Field::Organisation),
            ("Organisatie", Field::Organisation),
            ("Imię i nazwisko", Field::Name),
            ("Organizacja", Field::Organisation),
            ("Państwo", Field::Country),
            ("Type of organisation", Field::StakeholderType),
            ("Working group(s)*", Field::Group),
            ("Why do you want to join?", Field::Motivation),
            ("**Role sought**", Field::Role),
            ("Your Matrix ID (optional)", Field::Matrix),
            ("Tel.", Field::Ignore),
        ] {
            assert_eq!(field_for_label(label), Some(field), "{label}");
        }
        assert_eq!(
            field_for_label("Our motivation is simple and clear and long indeed"),
            None
        );
        assert_eq!(field_for_label("https"), None);
    }

    #[test]
    fn multi_line_values() {
        let form = parse(
            "Intro line.\nName: Aino\nOrganisation:\nRegional Council\nMotivation: first\nsecond\n\nthird para\n\nThank you!\nGroups:\n- Digital\n- Health",
        );
        assert_eq!(form.get(Field::Name), Some("Aino"));
        assert_eq!(form.get(Field::Organisation), Some("Regional Council"));
        assert_eq!(
            form.get(Field::Motivation),
            Some("first second\n\nthird para")
        );
        assert_eq!(form.get(Field::Group), Some("Digital; Health"));
        assert_eq!(form.leftover, "Intro line.\n\nThank you!");
    }

    #[test]
    fn names_and_boxes() {
        let form = parse("Vorname: Hans\nName: Müller\nRolle: [ ] Mitglied [x] Experte");
        assert_eq!(form.person_name().as_deref(), Some("Hans Müller"));
        assert_eq!(form.get(Field::Role), Some("Experte"));
        let form = parse("Name, Vorname: Müller, Hans\nGruppe\tGesundheit");
        assert_eq!(form.person_name().as_deref(), Some("Hans Müller"));
        assert_eq!(form.get(Field::Group), Some("Gesundheit"));
    }
}
