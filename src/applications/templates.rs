//! Mail templates for applicants: acknowledgement, "call closed" reply, decisions, questions.
//! Built-in defaults are the files of `templates/` (embedded), overridable by files of the
//! same name in `applications.templates`. A template is `<kind>-<lang>.txt`; its first line
//! is `Subject: …`, the rest the body; `{placeholder}`s are replaced, unknown ones left as
//! they are. Missing language → English.

use std::path::Path;

/// Languages with built-in templates.
pub const LANGUAGES: &[&str] = &["en", "fr", "de", "it", "es"];

const BUILTIN: &[(&str, &str)] = &[
    (
        "call-closed-de",
        include_str!("../../templates/call-closed-de.txt"),
    ),
    (
        "call-closed-en",
        include_str!("../../templates/call-closed-en.txt"),
    ),
    (
        "call-closed-es",
        include_str!("../../templates/call-closed-es.txt"),
    ),
    (
        "call-closed-fr",
        include_str!("../../templates/call-closed-fr.txt"),
    ),
    (
        "call-closed-it",
        include_str!("../../templates/call-closed-it.txt"),
    ),
    ("ack-de", include_str!("../../templates/ack-de.txt")),
    ("ack-en", include_str!("../../templates/ack-en.txt")),
    ("ack-es", include_str!("../../templates/ack-es.txt")),
    ("ack-fr", include_str!("../../templates/ack-fr.txt")),
    ("ack-it", include_str!("../../templates/ack-it.txt")),
    (
        "decision-accepted-de",
        include_str!("../../templates/decision-accepted-de.txt"),
    ),
    (
        "decision-accepted-en",
        include_str!("../../templates/decision-accepted-en.txt"),
    ),
    (
        "decision-accepted-es",
        include_str!("../../templates/decision-accepted-es.txt"),
    ),
    (
        "decision-accepted-fr",
        include_str!("../../templates/decision-accepted-fr.txt"),
    ),
    (
        "decision-accepted-it",
        include_str!("../../templates/decision-accepted-it.txt"),
    ),
    (
        "decision-declined-de",
        include_str!("../../templates/decision-declined-de.txt"),
    ),
    (
        "decision-declined-en",
        include_str!("../../templates/decision-declined-en.txt"),
    ),
    (
        "decision-declined-es",
        include_str!("../../templates/decision-declined-es.txt"),
    ),
    (
        "decision-declined-fr",
        include_str!("../../templates/decision-declined-fr.txt"),
    ),
    (
        "decision-declined-it",
        include_str!("../../templates/decision-declined-it.txt"),
    ),
    (
        "decision-waitlisted-de",
        include_str!("../../templates/decision-waitlisted-de.txt"),
    ),
    (
        "decision-waitlisted-en",
        include_str!("../../templates/decision-waitlisted-en.txt"),
    ),
    (
        "decision-waitlisted-es",
        include_str!("../../templates/decision-waitlisted-es.txt"),
    ),
    (
        "decision-waitlisted-fr",
        include_str!("../../templates/decision-waitlisted-fr.txt"),
    ),
    (
        "decision-waitlisted-it",
        include_str!("../../templates/decision-waitlisted-it.txt"),
    ),
    (
        "question-de",
        include_str!("../../templates/question-de.txt"),
    ),
    (
        "question-en",
        include_str!("../../templates/question-en.txt"),
    ),
    (
        "question-es",
        include_str!("../../templates/question-es.txt"),
    ),
    (
        "question-fr",
        include_str!("../../templates/question-fr.txt"),
    ),
    (
        "question-it",
        include_str!("../../templates/question-it.txt"),
    ),
];

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub body: String,
}

/// The template text for `kind` in `lang`: the override folder first, then the built-in one,
/// then the same in English.
pub fn load(dir: Option<&Path>, kind: &str, lang: &str) -> anyhow::Result<String> {
    for lang in [lang, "en"] {
        let name = format!("{kind}-{lang}");
        if let Some(dir) = dir {
            let path = dir.join(format!("{name}.txt"));
            if path.is_file() {
                return std::fs::read_to_string(&path)
                    .map_err(|e| anyhow::anyhow!("template {}: {e}", path.display()));
            }
        }
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) {
            return Ok((*text).to_string());
        }
    }
    anyhow::bail!("no template `{kind}` (neither built in nor in the templates folder)")
}

/// Replaces `{key}` by its value; splits off the `Subject:` line.
pub fn render(template: &str, values: &[(&str, &str)]) -> Rendered {
    let mut text = template.replace("\r\n", "\n");
    for (key, value) in values {
        text = text.replace(&format!("{{{key}}}"), value);
    }
    let (subject, body) = match text.split_once('\n') {
        Some((first, rest)) if first.to_ascii_lowercase().starts_with("subject:") => (
            first["subject:".len()..].trim().to_string(),
            rest.to_string(),
        ),
        _ => ("Expression of interest".to_string(), text),
    };
    Rendered {
        subject,
        body: body.trim_start_matches('\n').to_string(),
    }
}

/// Loads and renders in one go.
pub fn mail(
    dir: Option<&Path>,
    kind: &str,
    lang: &str,
    values: &[(&str, &str)],
) -> anyhow::Result<Rendered> {
    Ok(render(&load(dir, kind, lang)?, values))
}

/// A field's name in the applicant's language (for the received/missing lists).
pub fn field_label(field: &str, lang: &str) -> &'static str {
    let i = LANGUAGES.iter().position(|l| *l == lang).unwrap_or(0);
    let row: [&'static str; 5] = match field {
        "name" => ["Name", "Nom", "Name", "Nome", "Nombre"],
        "email" => ["E-mail", "E-mail", "E-Mail", "E-mail", "Correo electrónico"],
        "organisation" => [
            "Organisation",
            "Organisation",
            "Organisation",
            "Organizzazione",
            "Organización",
        ],
        "stakeholder_type" => [
            "Type of organisation",
            "Type d'organisation",
            "Art der Organisation",
            "Tipo di organizzazione",
            "Tipo de organización",
        ],
        "country" => ["Country", "Pays", "Land", "Paese", "País"],
        "region" => ["Region", "Région", "Region", "Regione", "Región"],
        "group" => [
            "Working group",
            "Groupe de travail",
            "Arbeitsgruppe",
            "Gruppo di lavoro",
            "Grupo de trabajo",
        ],
        "role" => [
            "Role sought",
            "Rôle souhaité",
            "Gewünschte Rolle",
            "Ruolo richiesto",
            "Función solicitada",
        ],
        "motivation" => [
            "Motivation",
            "Motivation",
            "Motivation",
            "Motivazione",
            "Motivación",
        ],
        "matrix_id" => [
            "Matrix id",
            "Identifiant Matrix",
            "Matrix-ID",
            "ID Matrix",
            "Identificador Matrix",
        ],
        "partnership" => [
            "Partnership",
            "Partenariat",
            "Partnerschaft",
            "Partenariato",
            "Asociación",
        ],
        "attachments" => [
            "Attachments",
            "Pièces jointes",
            "Anhänge",
            "Allegati",
            "Archivos adjuntos",
        ],
        _ => return "?",
    };
    row[i]
}

/// "Nothing" in the applicant's language (an empty missing list).
pub fn nothing(lang: &str) -> &'static str {
    match lang {
        "fr" => "rien, votre candidature est complète",
        "de" => "nichts, Ihre Bewerbung ist vollständig",
        "it" => "niente, la candidatura è completa",
        "es" => "nada, su candidatura está completa",
        _ => "nothing, your application is complete",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_has_a_subject_and_all_languages_exist() {
        for kind in [
            "ack",
            "call-closed",
            "decision-accepted",
            "decision-declined",
            "decision-waitlisted",
            "question",
        ] {
            for lang in LANGUAGES {
                let t = load(None, kind, lang).unwrap();
                assert!(t.starts_with("Subject: "), "{kind}-{lang}");
                assert!(t.contains("{id}") && t.contains("{name}"), "{kind}-{lang}");
            }
        }
    }

    #[test]
    fn language_falls_back_to_english() {
        let pl = mail(None, "ack", "pl", &[("id", "7"), ("name", "Ola")]).unwrap();
        let en = mail(None, "ack", "en", &[("id", "7"), ("name", "Ola")]).unwrap();
        assert_eq!(pl, en);
        assert_eq!(en.subject, "Your expression of interest (ref. EOI-7)");
        assert!(en.body.starts_with("Dear Ola,"), "{}", en.body);
        let fr = mail(None, "ack", "fr", &[("id", "7"), ("name", "Ola")]).unwrap();
        assert!(fr.subject.contains("manifestation"));
        assert_eq!(field_label("country", "de"), "Land");
        assert_eq!(field_label("country", "pl"), "Country");
    }

    #[test]
    fn override_folder_wins_and_unknown_placeholders_stay() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ack-fr.txt"),
            "Subject: Reçu {id}\r\nMerci {name} {other}\n",
        )
        .unwrap();
        let r = mail(
            Some(dir.path()),
            "ack",
            "fr",
            &[("id", "3"), ("name", "Zoé")],
        )
        .unwrap();
        assert_eq!(r.subject, "Reçu 3");
        assert_eq!(r.body, "Merci Zoé {other}\n");
        // Not overridden: the built-in one.
        let de = mail(Some(dir.path()), "ack", "de", &[("id", "3")]).unwrap();
        assert!(de.subject.starts_with("Ihre"));
        assert!(load(None, "nope", "en").is_err());
    }

    #[test]
    fn template_without_subject_line() {
        let r = render("Hello {name}", &[("name", "A")]);
        assert_eq!(r.subject, "Expression of interest");
        assert_eq!(r.body, "Hello A");
    }
}
