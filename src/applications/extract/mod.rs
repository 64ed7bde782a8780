//! Reads an inbound mail and, when it is an expression of interest (EoI), extracts the
//! application record the secretariat reviews. Pure functions: no I/O, no clock, no state.
//!
//! Layout, in pipeline order:
//! - automatic mail is recognised first ([`crate::mail::automatic`]) and only described;
//! - `source`: body text (HTML converted by `html`), sender, attachments, and the forwarded
//!   mail when the message forwards an application (attached `message/rfc822` or inline block);
//! - `split`: the applicant's new text, without quoted earlier mail, greeting and signature;
//! - `reading`: decides whose text is read and assembles the record from
//! - `form` (labelled fields, vocabulary in `labels`) and `prose` (free text), normalised by
//!   `normalise` (stakeholder type, role, partnership), `country`, `groups` and `language`;
//!   `text` holds the accent folding all matching relies on.
//!
//! Classification: a mail is an EoI when its new text has at least two labelled application
//! fields, or a sentence stating the intent to join/apply (first person, a verb of applying,
//! a target such as a group, role or call; not a question, not about a meeting, not negated),
//! or an application subject ("Expression of interest", "Candidature", "Bewerbung", …) on a
//! first mail that asks no question. A reply with such a subject is an EoI only when it
//! carries a field or says it corrects something. Everything else is correspondence.
//!
//! Choices the secretariat should know:
//! - Only an EoI gets the application fields; correspondence and automatic mail get language,
//!   sender name and address, subject, message id and attachments.
//! - Labelled values win over prose; prose wins over the signature, which is consulted only
//!   for the organisation (a line that names one, job titles and contact lines skipped) and
//!   the country. The country is never guessed from the e-mail domain (see `country`).
//! - Forwards: the forwarded sender is the applicant and `forwarded_by` the forwarder, unless
//!   the forwarder's own note is itself a form (two fields or more) or the forwarded mail is
//!   not an application, in which case the mail is read as the forwarder's own.
//! - A reply that corrects an application (`is_correction`) is read from its new text only:
//!   fields it does not repeat are absent and listed in `missing`, and its prose is not taken
//!   as motivation; the store merges it into the earlier record.
//! - Without a "Motivation:" field, the applicant's remaining prose (minus "please find
//!   attached" sentences and contact details) is the motivation if it is at least
//!   [`MIN_MOTIVATION`] characters long. An attached document (PDF, Word, ODT, RTF) stands in
//!   for a motivation letter: motivation is then never reported missing, and a motivation that
//!   only points at the attachment is dropped.
//! - Partnership EoIs need no group and no role.
//! - Names lose honorifics ("Dr.", "Mag.", "Herr"), "Surname, Given" becomes "Given Surname";
//!   e-mail addresses are lower-cased; our own addresses are never the applicant's.
//! - Role: in a field, leader beats expert beats member ("member, willing to co-lead" is a
//!   leader candidacy); negated words are ignored ("membro (non esperta)"). In prose, the
//!   first role mentioned.
//! - Serialised kinds are `"eoi"`, `"correspondence"` and `{"automatic": {"reason": …}}`.

mod country;
mod form;
mod forward;
mod groups;
mod html;
mod labels;
mod language;
mod normalise;
mod prose;
mod reading;
mod source;
mod split;
mod text;

use anyhow::{Context, bail};
use mail_parser::{HeaderName, Message, MessageParser};
use serde::{Deserialize, Serialize};

use crate::mail::automatic;
use text::fold;

pub use html::to_text as html_to_text;
pub use source::is_robot;

/// A working group's slug and every name it goes by (display name and aliases, any language).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupNames {
    pub slug: String,
    pub names: Vec<String>,
}

/// What the extractor needs to know about this deployment.
#[derive(Debug, Clone, Default)]
pub struct ExtractConfig {
    pub groups: Vec<GroupNames>,
    /// Our mailbox address(es): never the applicant.
    pub own_addresses: Vec<String>,
}

impl ExtractConfig {
    /// `groups` plus the built-in multilingual aliases of the known slugs (`digital`,
    /// `health`, `research-innovation`, `territorial`); no own addresses.
    pub fn with_default_aliases(mut groups: Vec<GroupNames>) -> Self {
        for group in &mut groups {
            let defaults = groups::DEFAULT_ALIASES
                .iter()
                .filter(|(slug, _)| *slug == group.slug)
                .flat_map(|(_, names)| names.iter());
            for name in defaults {
                if !group.names.iter().any(|n| fold(n) == fold(name)) {
                    group.names.push((*name).to_string());
                }
            }
        }
        ExtractConfig {
            groups,
            own_addresses: Vec::new(),
        }
    }
}

/// How a mail is to be handled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// Written by a machine: never answered, never an application.
    Automatic { reason: String },
    /// An expression of interest (or a correction of one).
    Eoi,
    /// Anything else a person wrote.
    Correspondence,
}

/// The stakeholder categories of the call (see `normalise` for the synonyms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StakeholderType {
    PublicAuthority,
    ResearchAcademia,
    Agency,
    BusinessAssociation,
    UmbrellaOrganisation,
    NetworkCluster,
    RegionalOrganisation,
    CivilSociety,
    Other,
}

/// The role sought in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Leader,
    Expert,
}

/// An attachment as received (never opened here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentInfo {
    pub filename: Option<String>,
    pub content_type: String,
    /// Decoded size in bytes.
    pub size: usize,
}

/// What one mail says; for an EoI, the application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Application {
    pub kind: MailKind,
    /// ISO 639-1 code of the applicant's text (en fr de it es pt nl pl; fallback "en").
    pub language: String,
    /// The applicant (for a forward: the forwarded sender, not the forwarder).
    pub name: Option<String>,
    pub email: Option<String>,
    pub organisation: Option<String>,
    pub stakeholder_type: Option<StakeholderType>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub region: Option<String>,
    /// Group slugs, deduplicated, in mention order.
    pub groups: Vec<String>,
    /// "single_region" | "macro_region" | "network_of_regions".
    pub partnership: Option<String>,
    pub role: Option<Role>,
    pub motivation: Option<String>,
    /// "@user:server".
    pub matrix_id: Option<String>,
    pub attachments: Vec<AttachmentInfo>,
    /// Address of whoever forwarded the application.
    pub forwarded_by: Option<String>,
    /// A reply correcting an earlier application (quoted earlier text present).
    pub is_correction: bool,
    /// Required fields absent: name, email, organisation, stakeholder_type, country, group,
    /// role, motivation.
    pub missing: Vec<String>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
}

/// Prose shorter than this is an introduction ("Please find my application below"), not a
/// motivation.
pub const MIN_MOTIVATION: usize = 100;

/// Parses raw bytes as a mail and extracts from it. Fails, without panicking, when the bytes
/// are not a mail: no header at all, or none of the headers every mail has.
pub fn parse_eml(raw: &[u8], cfg: &ExtractConfig) -> anyhow::Result<Application> {
    let msg = MessageParser::default()
        .parse(raw)
        .context("not a mail: no header found")?;
    let has_mail_header = msg.headers().iter().any(|h| {
        matches!(
            h.name,
            HeaderName::From
                | HeaderName::To
                | HeaderName::Cc
                | HeaderName::Subject
                | HeaderName::Date
                | HeaderName::MessageId
                | HeaderName::Sender
                | HeaderName::ReplyTo
                | HeaderName::Received
                | HeaderName::ReturnPath
                | HeaderName::MimeVersion
                | HeaderName::ContentType
        )
    });
    if !has_mail_header {
        bail!("not a mail: none of From, To, Subject, Date, Message-ID, Received, Content-Type");
    }
    Ok(extract(&msg, cfg))
}

/// Classifies `msg` and, for an expression of interest, extracts the application.
pub fn extract(msg: &Message, cfg: &ExtractConfig) -> Application {
    let outer = reading::View::outer(msg, cfg);
    if let Some(reason) = automatic::detect(msg) {
        let mut app = outer.describe(MailKind::Automatic {
            reason: reason.to_string(),
        });
        app.attachments = source::attachments(msg, None);
        return app;
    }
    let view = reading::View::applicant(msg, cfg, outer);
    let mut app = view.read(cfg);
    app.attachments = source::attachments(msg, view.skip_part);
    if app.kind == MailKind::Eoi {
        // "Our motivation is in the attached letter": the letter is the motivation.
        if has_document(&app)
            && app
                .motivation
                .as_deref()
                .is_some_and(prose::points_to_attachment)
        {
            app.motivation = None;
        }
        app.missing = missing(&app);
    }
    app.message_id = msg.message_id().map(str::to_string);
    app.subject = msg.subject().map(str::to_string);
    app
}

/// Whether a document (PDF, Word, ODT, RTF) is attached: it may hold the motivation letter.
fn has_document(app: &Application) -> bool {
    app.attachments.iter().any(|a| {
        let ct = a.content_type.as_str();
        ct == "application/pdf"
            || ct.contains("word")
            || ct.contains("opendocument.text")
            || ct == "application/rtf"
    })
}

fn missing(app: &Application) -> Vec<String> {
    let document = has_document(app);
    let partnership = app.partnership.is_some();
    [
        ("name", app.name.is_none()),
        ("email", app.email.is_none()),
        ("organisation", app.organisation.is_none()),
        ("stakeholder_type", app.stakeholder_type.is_none()),
        ("country", app.country.is_none()),
        ("group", app.groups.is_empty() && !partnership),
        ("role", app.role.is_none() && !partnership),
        ("motivation", app.motivation.is_none() && !document),
    ]
    .into_iter()
    .filter(|(_, absent)| *absent)
    .map(|(field, _)| field.to_string())
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_mail_is_an_error() {
        let cfg = ExtractConfig::default();
        assert!(parse_eml(b"", &cfg).is_err());
        assert!(parse_eml(b"hello world, this is not a mail", &cfg).is_err());
        assert!(parse_eml(b"\x00\x01\x02 garbage\n\nbody", &cfg).is_err());
        assert!(parse_eml(b"Subject: hi\n\nbody", &cfg).is_ok());
    }

    #[test]
    fn serde_names() {
        let json =
            serde_json::to_string(&(StakeholderType::PublicAuthority, Role::Expert)).unwrap();
        assert_eq!(json, r#"["public_authority","expert"]"#);
        let kind = MailKind::Automatic { reason: "x".into() };
        assert_eq!(
            serde_json::to_string(&kind).unwrap(),
            r#"{"automatic":{"reason":"x"}}"#
        );
    }
}
