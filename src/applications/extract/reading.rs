//! One reading of a mail: whose text it is (the sender's, or a forwarded applicant's), how it
//! splits into fields and prose, whether it is an application, and the record it yields.

use std::cell::OnceCell;
use std::sync::LazyLock;

use mail_parser::Message;
use regex::Regex;

use super::form::{self, Field, Form};
use super::forward;
use super::source::{self, Person};
use super::split::{self, Split};
use super::text::{clean_value, fold};
use super::{
    Application, ExtractConfig, MIN_MOTIVATION, MailKind, StakeholderType, country, groups,
    language, normalise, prose,
};

/// The text read as the applicant's, with who wrote it.
pub struct View {
    text: String,
    html_alt: Option<String>,
    sender: Person,
    subject: Option<String>,
    forwarded_by: Option<String>,
    /// Whether this is a forwarded mail rather than the sender's own.
    forward: bool,
    /// The attached message read as the application, left out of the attachment list.
    pub skip_part: Option<u32>,
    /// The text cut up, computed once.
    reading: OnceCell<Reading>,
}

/// The text of a view cut into new text, signature, fields and leftover prose.
struct Reading {
    split: Split,
    form: Form,
}

impl Reading {
    fn of(view: &View) -> Reading {
        let split = split::split(&view.text);
        let form = form::parse(&split.body);
        let mut reading = Reading { split, form };
        // Plain-text renderings of HTML tables often lose the cell structure: read the HTML
        // alternative too and keep whichever gives more fields.
        if let Some(alt) = &view.html_alt {
            let split = split::split(alt);
            let form = form::parse(&split.body);
            if form.fields.len() > reading.form.fields.len() {
                reading = Reading { split, form };
            }
        }
        reading
    }

    fn looks_like_application(&self, cfg: &ExtractConfig) -> bool {
        self.form.application_fields() >= 2 || prose::has_intent(&self.split.body, cfg)
    }
}

impl View {
    /// The mail as its sender wrote it.
    pub fn outer(msg: &Message, cfg: &ExtractConfig) -> View {
        let (text, html_alt) = source::body_text(msg);
        View {
            text,
            html_alt,
            sender: source::sender(msg, cfg),
            subject: msg.subject().map(str::to_string),
            forwarded_by: None,
            forward: false,
            skip_part: None,
            reading: OnceCell::new(),
        }
    }

    /// The view to read: a forwarded application if the mail forwards one and its sender's
    /// own words are not themselves an application, else the mail itself.
    pub fn applicant(msg: &Message, cfg: &ExtractConfig, outer: View) -> View {
        let outer_reading = outer.reading();
        let own_sender = outer
            .sender
            .email
            .as_deref()
            .is_some_and(|e| cfg.own_addresses.iter().any(|o| o.eq_ignore_ascii_case(e)));
        // A forwarder's note may itself sound like an application ("anbei eine Bewerbung"):
        // only a note that is a form of its own keeps the mail from being read as a forward.
        if outer_reading.form.application_fields() >= 2 && !own_sender {
            return outer;
        }
        let forwarder = outer.sender.email.clone();
        let is_forward = outer
            .subject
            .as_deref()
            .is_some_and(|s| prose::subject_prefixes(s).1);
        let candidate = if let Some((id, inner)) = source::attached_message(msg) {
            let (text, html_alt) = source::body_text(inner);
            Some(View {
                text,
                html_alt,
                sender: source::sender(inner, cfg),
                subject: inner.subject().map(str::to_string),
                forwarded_by: None,
                forward: true,
                skip_part: Some(id),
                reading: OnceCell::new(),
            })
        } else {
            forward::inline_forward(&outer.text, is_forward).map(|fwd| View {
                text: fwd.body,
                html_alt: None,
                sender: fwd.sender,
                subject: fwd.subject.or_else(|| outer.subject.clone()),
                forwarded_by: None,
                forward: true,
                skip_part: None,
                reading: OnceCell::new(),
            })
        };
        match candidate {
            Some(mut view) if view.is_eoi(view.reading(), cfg) => {
                if view.sender.email != forwarder {
                    view.forwarded_by = forwarder;
                }
                view
            }
            _ => outer,
        }
    }

    fn is_eoi(&self, reading: &Reading, cfg: &ExtractConfig) -> bool {
        if reading.looks_like_application(cfg) {
            return true;
        }
        let subject = self.subject.as_deref().unwrap_or_default();
        let (reply, _, bare) = prose::subject_prefixes(subject);
        if !prose::subject_is_eoi(&fold(bare)) {
            return false;
        }
        let body = &reading.split.body;
        if reply {
            reading.form.application_fields() >= 1 || prose::mentions_correction(&fold(body))
        } else {
            !prose::has_question(body)
        }
    }

    fn reading(&self) -> &Reading {
        self.reading.get_or_init(|| Reading::of(self))
    }

    fn language(&self, reading: &Reading) -> String {
        let subject = self
            .subject
            .as_deref()
            .map(|s| prose::subject_prefixes(s).2);
        let sample = format!("{}\n{}", subject.unwrap_or_default(), reading.split.body);
        language::detect(&sample).to_string()
    }

    /// A record with only what every mail has.
    pub fn describe(&self, kind: MailKind) -> Application {
        let reading = self.reading();
        Application {
            kind,
            language: self.language(reading),
            name: self.sender.name.clone(),
            email: self.sender.email.clone(),
            organisation: None,
            stakeholder_type: None,
            country: None,
            region: None,
            groups: Vec::new(),
            partnership: None,
            role: None,
            motivation: None,
            matrix_id: None,
            attachments: Vec::new(),
            forwarded_by: None,
            is_correction: false,
            missing: Vec::new(),
            subject: self.subject.clone(),
            message_id: None,
        }
    }

    /// Classifies the view and, for an application, reads every field.
    pub fn read(&self, cfg: &ExtractConfig) -> Application {
        let reading = self.reading();
        if !self.is_eoi(reading, cfg) {
            return self.describe(MailKind::Correspondence);
        }
        let mut app = self.describe(MailKind::Eoi);
        let form = &reading.form;
        let body = reading.split.body.as_str();
        let folded_body = fold(body);
        let signature = reading.split.signature.as_str();
        let subject = self
            .subject
            .as_deref()
            .map(|s| prose::subject_prefixes(s).2);

        app.name = form.person_name().or_else(|| self.sender.name.clone());
        let own = |e: &String| cfg.own_addresses.iter().any(|o| o.eq_ignore_ascii_case(e));
        app.email = form
            .get(Field::Email)
            .and_then(source::normalise_email)
            .or_else(|| self.sender.email.clone())
            .filter(|e| !own(e));

        app.organisation = form
            .get(Field::Organisation)
            .map(clean_value)
            .or_else(|| prose::organisation(body))
            .or_else(|| signature_organisation(signature, app.name.as_deref()));

        app.stakeholder_type = match form.get(Field::StakeholderType) {
            Some(value) => {
                Some(normalise::stakeholder(&fold(value)).unwrap_or(StakeholderType::Other))
            }
            None => app
                .organisation
                .as_deref()
                .and_then(|o| normalise::stakeholder(&fold(o)))
                .or_else(|| prose::stakeholder(body)),
        };

        app.country = match form.get(Field::Country) {
            Some(value) => country::from_value(value),
            None => [app.organisation.as_deref(), form.get(Field::Region)]
                .into_iter()
                .flatten()
                .find_map(|s| country::find_in_prose(&fold(s)))
                .or_else(|| country::find_in_prose(&folded_body))
                .or_else(|| country::find_in_prose(&fold(signature)))
                .map(|(_, code)| code),
        }
        .map(str::to_string);

        app.region = form
            .get(Field::Region)
            .map(clean_value)
            .or_else(|| prose::region(body));

        let labelled_groups: Vec<&str> = form.all(Field::Group).collect();
        app.groups = if labelled_groups.is_empty() {
            let in_prose = groups::from_prose(&folded_body, cfg);
            if in_prose.is_empty() {
                subject
                    .map(|s| groups::from_subject(s, cfg))
                    .unwrap_or_default()
            } else {
                in_prose
            }
        } else {
            groups::from_value(&labelled_groups.join("; "), cfg)
        };

        let about_partnership = format!("{}\n{}", fold(subject.unwrap_or_default()), folded_body);
        app.partnership = form
            .get(Field::Partnership)
            .and_then(|v| normalise::partnership(&fold(v)))
            .or_else(|| {
                normalise::mentions_partnership(&about_partnership)
                    .then(|| normalise::partnership(&about_partnership))
                    .flatten()
            })
            .map(str::to_string);

        app.role = form
            .get(Field::Role)
            .and_then(|v| normalise::role(&fold(v)))
            .or_else(|| prose::role(&folded_body));

        // A correction's prose explains the correction, not the motivation.
        let correction = reading.split.quoted && !self.forward;
        let motivations: Vec<&str> = form.all(Field::Motivation).collect();
        app.motivation = if motivations.is_empty() && correction {
            None
        } else if motivations.is_empty() {
            let leftover = without_boilerplate(&form.leftover);
            (leftover.chars().count() >= MIN_MOTIVATION).then_some(leftover)
        } else {
            Some(motivations.join("\n\n"))
        };

        app.matrix_id = form
            .get(Field::Matrix)
            .and_then(|v| {
                let v = v.trim();
                let v = if v.starts_with('@') {
                    v.to_string()
                } else {
                    format!("@{v}")
                };
                prose::matrix_id(&v)
            })
            .or_else(|| prose::matrix_id(body));

        app.forwarded_by = self.forwarded_by.clone();
        // A forwarded application quoting its own thread is not a correction by the forwarder.
        app.is_correction = correction;
        app
    }
}

static BOILERPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(please (find|see)|find (attached|below|enclosed)|attached (please|is|are)|i attach|we attach|veuillez trouver|vous trouverez|ci-joint|ci-dessous|anbei|im anhang|nachfolgend|untenstehend|in allegato|di seguito|qui sotto|adjunto|a continuacion|em anexo|segue abaixo|bijgevoegd|in de bijlage|hieronder|w zalaczeniu|ponizej)")
        .expect("boilerplate regex")
});

/// Prose with hard line wraps undone and paragraphs kept, without the sentences that only
/// point at the form or the attachments ("Please find attached my CV.").
fn without_boilerplate(text: &str) -> String {
    text.split("\n\n")
        .map(|p| {
            prose::sentences(p)
                .into_iter()
                .map(|(s, _)| s)
                .filter(|s| !(s.chars().count() < 160 && BOILERPLATE.is_match(&fold(s))))
                // Contact details are not motivation ("reach me on Matrix at @…").
                .filter(|s| prose::matrix_id(s).is_none() && source::normalise_email(s).is_none())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Words of job titles, which signatures put next to organisations.
#[rustfmt::skip]
const JOB_TITLE: &[&str] = &[
    "manager", "officer", "director", "head of", "coordinator", "advisor", "adviser", "researcher",
    "professor", "assistant", "consultant", "president", "secretary", "ceo", "policy", "charge",
    "directeur", "directrice", "responsable", "leiter", "referent", "direttore", "direttrice",
    "director", "tecnico", "coordinador", "adviseur", "medewerker", "kierownik", "dyrektor",
    "specjalista", "project",
];

/// An organisation named on a line of the signature ("Regional Council of Kainuu"), skipping
/// contact details and job titles.
fn signature_organisation(signature: &str, name: Option<&str>) -> Option<String> {
    for line in signature.lines().skip(1) {
        for segment in line.split(['|', '·', '•']) {
            let segment = segment.trim().trim_end_matches(',');
            let folded = fold(segment);
            let contact = segment.contains(['@', ':', '+'])
                || folded.contains("www.")
                || folded.contains("http")
                || segment.chars().filter(char::is_ascii_digit).count() > 3;
            if contact
                || segment.chars().count() < 4
                || segment.chars().count() > 90
                || Some(segment) == name
                || JOB_TITLE.iter().any(|t| folded.contains(t))
            {
                continue;
            }
            if normalise::stakeholder(&folded).is_some_and(|t| t != StakeholderType::Other) {
                return Some(segment.to_string());
            }
        }
    }
    None
}
