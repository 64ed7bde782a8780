//! The automatic replies of the intake (RFC 3834 `Auto-Submitted: auto-replied`, to the
//! envelope sender, in reply to the applicant's mail): the acknowledgement of an EoI within
//! an open call, and the "call closed" reply to a late one, which names the next call when
//! one is coming.

use super::intake::bracketed;
use super::store::Eoi;
use super::{Settings, card, templates};
use crate::calendar::model::{Call, DateSpec};
use crate::mail::compose::OutMail;

/// The acknowledgement: in the applicant's language, what was received and what is missing;
/// RFC 3834 auto-reply to the sender, in reply to their mail.
pub fn ack_mail(s: &Settings, e: &Eoi) -> anyhow::Result<OutMail> {
    let r = &e.record;
    let lang = r.language.as_str();
    let mut received = Vec::new();
    let mut add = |field: &str, value: Option<String>| {
        if let Some(v) = value {
            received.push(format!("- {}: {v}", templates::field_label(field, lang)));
        }
    };
    add("name", r.name.clone());
    add("email", Some(e.email.clone()));
    add("organisation", r.organisation.clone());
    add("country", r.country.clone());
    add("region", r.region.clone());
    add("group", (!r.groups.is_empty()).then(|| r.groups.join(", ")));
    add("partnership", r.partnership.clone());
    add("role", card::role_name(r));
    add("motivation", r.motivation.as_ref().map(|_| "✓".to_string()));
    add("matrix_id", r.matrix_id.clone());
    let files: Vec<&str> = r
        .attachments
        .iter()
        .filter_map(|a| a.filename.as_deref())
        .collect();
    add("attachments", (!files.is_empty()).then(|| files.join(", ")));
    let missing = if r.missing.is_empty() {
        templates::nothing(lang).to_string()
    } else {
        r.missing
            .iter()
            .map(|m| format!("- {}", templates::field_label(m, lang)))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let id = e.id.to_string();
    let name = r.name.clone().unwrap_or_default();
    let received = received.join("\n");
    let rendered = templates::mail(
        s.cfg.templates.as_deref(),
        "ack",
        lang,
        &[
            ("id", &id),
            ("name", &name),
            ("received", &received),
            ("missing", &missing),
        ],
    )?;
    Ok(auto_reply(e, rendered))
}

/// The reply to an EoI outside every open window: the call (`closed`, if any) is over; the
/// next one (`next`, if any) opens on its date.
pub fn closed_mail(
    s: &Settings,
    e: &Eoi,
    closed: Option<&Call>,
    next: Option<&Call>,
) -> anyhow::Result<OutMail> {
    let lang = e.record.language.as_str();
    let id = e.id.to_string();
    let name = e.record.name.clone().unwrap_or_default();
    let call = closed
        .map(|c| format!(" \"{}\"", c.title))
        .unwrap_or_default();
    let next = next_call(lang, next.map(|c| (c.title.as_str(), when(&c.opens))));
    let rendered = templates::mail(
        s.cfg.templates.as_deref(),
        "call-closed",
        lang,
        &[
            ("id", &id),
            ("name", &name),
            ("call", &call),
            ("next", &next),
        ],
    )?;
    Ok(auto_reply(e, rendered))
}

/// A date as an applicant reads it: `2027-01-04`, `2027-02`, `2027-01-04 10:00 (Europe/Brussels)`.
fn when(d: &DateSpec) -> String {
    match d {
        DateSpec::At { local, tz } => format!("{} ({})", local.format("%Y-%m-%d %H:%M"), tz.name()),
        other => other.to_string(),
    }
}

/// The sentence about the next call, in the applicant's language (English otherwise).
pub fn next_call(lang: &str, next: Option<(&str, String)>) -> String {
    match (lang, next) {
        ("fr", Some((t, d))) => format!(
            "Le prochain appel, « {t} », ouvre le {d} : vous pourrez alors renouveler votre candidature."
        ),
        ("de", Some((t, d))) => format!(
            "Der nächste Aufruf, „{t}“, beginnt am {d}; dann können Sie sich erneut bewerben."
        ),
        ("it", Some((t, d))) => format!(
            "Il prossimo invito, «{t}», si apre il {d}: potrà allora ripresentare la candidatura."
        ),
        ("es", Some((t, d))) => format!(
            "La próxima convocatoria, «{t}», se abre el {d}: podrá volver a presentar su candidatura entonces."
        ),
        (_, Some((t, d))) => {
            format!("The next call, \"{t}\", opens on {d}: you are welcome to apply again then.")
        }
        ("fr", None) => "Aucun nouvel appel n'est prévu pour le moment.".into(),
        ("de", None) => "Derzeit ist kein neuer Aufruf geplant.".into(),
        ("it", None) => "Al momento non è previsto un nuovo invito.".into(),
        ("es", None) => "Por el momento no hay prevista ninguna nueva convocatoria.".into(),
        (_, None) => "No new call is planned at the moment.".into(),
    }
}

/// An RFC 3834 auto-reply to the applicant's envelope sender, in reply to their mail.
fn auto_reply(e: &Eoi, r: templates::Rendered) -> OutMail {
    let mid = e.record.message_id.as_deref();
    OutMail {
        to: vec![e.reply_to.clone()],
        subject: r.subject,
        text: r.body,
        in_reply_to: mid.map(bracketed),
        references: mid.map(bracketed).into_iter().collect(),
        auto_submitted: Some("auto-replied"),
        calendar: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_call_sentences() {
        let s = next_call("fr", Some(("Appel 2027", "2027-01-04".into())));
        assert!(
            s.contains("« Appel 2027 »") && s.contains("2027-01-04"),
            "{s}"
        );
        assert!(next_call("pl", None).starts_with("No new call"));
        assert_eq!(
            when(&DateSpec::parse("2027-02", chrono_tz::Europe::Brussels).unwrap()),
            "2027-02"
        );
    }
}
