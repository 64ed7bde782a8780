//! The EoI card posted to the management room (and the `!eoi show` text): Markdown rendered to
//! HTML, with the structured record under `org.convene.eoi` in the event content.
//!
//! Every value on the card came from a mail — name, organisation, addresses, subject,
//! motivation, file names and types, even the sender's authentication results — so each is
//! cut to a size ([`crate::markup::truncate`]) and then escaped ([`crate::markup`]): nothing an
//! applicant writes becomes a link, emphasis, a heading, raw HTML or a mention, and an
//! address is text, not an autolink. What was cut is kept whole in [`full_text`], which the
//! intake attaches to the card as a file.

use serde_json::json;

use super::Settings;
use super::extract::Application;
use super::store::Eoi;
use crate::markup::{code, escape_markdown, escape_markdown_line, truncate};

/// The namespaced key holding the structured record in a card's content.
pub const CONTENT_KEY: &str = "org.convene.eoi";

/// Bytes of one field shown on the card (name, organisation, an address, …).
const FIELD_MAX: usize = 300;
/// Bytes of the subject shown.
const SUBJECT_MAX: usize = 300;
/// Bytes of the motivation quoted.
const MOTIVATION_MAX: usize = 1500;
/// Bytes of one attachment's name shown.
const FILE_MAX: usize = 120;
/// Bytes of one text field in the structured record of the event.
const RECORD_FIELD_MAX: usize = 4000;

/// One value from mail, on one line, cut and escaped.
fn val(s: &str) -> String {
    escape_markdown_line(&truncate(s, FIELD_MAX))
}

/// Whether the card cut something the mail gave (then [`full_text`] is attached).
pub fn is_cut(e: &Eoi) -> bool {
    let r = &e.record;
    let long = |v: &Option<String>, max: usize| v.as_deref().is_some_and(|s| s.len() > max);
    long(&r.motivation, MOTIVATION_MAX)
        || long(&r.subject, SUBJECT_MAX)
        || [&r.name, &r.organisation, &r.region, &r.partnership]
            .into_iter()
            .any(|v| long(v, FIELD_MAX))
        || r.attachments
            .iter()
            .any(|a| a.filename.as_deref().is_some_and(|f| f.len() > FILE_MAX))
        || e.email.len() > FIELD_MAX
}

/// The record as Markdown: who, what, what is missing.
pub fn markdown(e: &Eoi, title: &str) -> String {
    let r = &e.record;
    let none = "—".to_string();
    let opt = |v: &Option<String>| v.as_deref().map(val).unwrap_or_else(|| none.clone());
    let mut out = format!(
        "**{title} #{}** — {} · {} · status **{}** · call {}\n\n",
        e.id,
        opt(&r.name),
        val(&e.email),
        e.status,
        code(&e.call_key),
    );
    let mut line = |label: &str, value: String| out.push_str(&format!("- {label}: {value}\n"));
    match (e.is_own(), e.submitter()) {
        (true, None) => line("Identity", "the sender's own address".into()),
        (true, Some(by)) => line(
            "Identity",
            format!("the applicant's own (first submitted by {})", val(by)),
        ),
        (false, Some(by)) if by == e.email => line(
            "Identity",
            format!(
                "not established: nothing ties this mail's sender to {} (see Sender); no \
                 decision before `!eoi confirm {}`",
                val(&e.email),
                e.id
            ),
        ),
        (false, Some(by)) => line(
            "Submitted by",
            format!(
                "{} — not the applicant's own address: no decision until the applicant writes \
                 from {} or `!eoi confirm {}`",
                val(by),
                val(&e.email),
                e.id
            ),
        ),
        (false, None) => {}
    }
    if let Some(c) = &e.contact {
        line("Contact written in the mail (not verified)", val(c));
    }
    let sender = e
        .sender_auth
        .as_ref()
        .map(|a| a.summary())
        .unwrap_or_else(|| "unknown".into());
    line("Sender", val(&sender));
    if let Some(subject) = &r.subject {
        line(
            "Subject",
            escape_markdown_line(&truncate(subject, SUBJECT_MAX)),
        );
    }
    line("Organisation", opt(&r.organisation));
    let stype = r
        .stakeholder_type
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    line("Stakeholder type", opt(&stype));
    let place = match (&r.country, &r.region) {
        (Some(c), Some(reg)) => format!("{} ({})", val(c), val(reg)),
        (Some(c), None) => val(c),
        (None, Some(reg)) => val(reg),
        (None, None) => none.clone(),
    };
    line("Country", place);
    let groups = if r.groups.is_empty() {
        none.clone()
    } else {
        val(&r.groups.join(", "))
    };
    line("Groups", groups);
    if let Some(p) = &r.partnership {
        line("Partnership", val(p));
    }
    line("Role sought", opt(&role_name(r)));
    line(
        "Matrix id",
        r.matrix_id
            .as_deref()
            .map(code)
            .unwrap_or_else(|| none.clone()),
    );
    line("Language", val(&r.language));
    if !r.attachments.is_empty() {
        let list: Vec<String> = r
            .attachments
            .iter()
            .map(|a| {
                format!(
                    "{} ({}, {} bytes)",
                    a.filename
                        .as_deref()
                        .map(|f| escape_markdown_line(&truncate(f, FILE_MAX)))
                        .unwrap_or_else(|| "unnamed".into()),
                    val(&a.content_type),
                    a.size
                )
            })
            .collect();
        line("Attachments", list.join("; "));
    }
    if let (Some(g), Some(role)) = (&e.group_slug, &e.decided_role) {
        line(
            "Decision",
            format!("{} in {} as {}", e.status, val(g), val(role)),
        );
    }
    line(
        "Missing",
        if r.missing.is_empty() {
            "nothing".into()
        } else {
            val(&r.missing.join(", "))
        },
    );
    if let Some(m) = &r.motivation {
        let quoted = escape_markdown(&truncate(m, MOTIVATION_MAX));
        out.push('\n');
        for l in quoted.lines() {
            out.push_str(&format!("> {l}\n"));
        }
    }
    if is_cut(e) {
        out.push_str(&format!(
            "\nSome values were cut; the whole application is in `application-{}.txt`.\n",
            e.id
        ));
    }
    out
}

pub fn role_name(r: &Application) -> Option<String> {
    r.role
        .and_then(|x| serde_json::to_value(x).ok())
        .and_then(|v| v.as_str().map(str::to_string))
}

/// The card as configured: in full, or with the summary fields only.
pub fn content_as(
    s: &Settings,
    e: &Eoi,
    title: &str,
    hint: bool,
    notes: &[String],
) -> serde_json::Value {
    if s.minimal_cards {
        summary_content(e, title)
    } else {
        content(s, e, title, hint, notes)
    }
}

/// The minimised card: name, group(s) and status; the rest is one command away.
pub fn summary_content(e: &Eoi, title: &str) -> serde_json::Value {
    let esc = crate::markup::escape_markdown_line;
    let name = e.record.name.as_deref().map_or("—".to_owned(), esc);
    let groups = match (&e.group_slug, e.record.groups.is_empty()) {
        (Some(g), _) => esc(g),
        (None, false) => esc(&e.record.groups.join(", ")),
        (None, true) => "—".to_owned(),
    };
    let md = format!(
        "**{title} #{}** — {name} · {groups} · status **{}**\n\n`!eoi show {}` for the full record; react ✅ to accept or ❌ to decline.",
        e.id, e.status, e.id
    );
    let mut content = crate::chat::notice_markdown(&md);
    content[CONTENT_KEY] = json!({ "id": e.id, "status": e.status });
    content
}

/// The card's event content: the Markdown as a notice plus the structured record (its long
/// texts cut), with `notes` (Markdown the caller escaped) under the fields.
pub fn content(
    s: &Settings,
    e: &Eoi,
    title: &str,
    hint: bool,
    notes: &[String],
) -> serde_json::Value {
    let mut md = markdown(e, title);
    for note in notes {
        md.push_str(&format!("\n{note}\n"));
    }
    if hint {
        md.push_str(&format!(
            "\nReact {} to accept or {} to decline; `!eoi show {}` for details.",
            escape_markdown_line(&s.cfg.accept_reaction),
            escape_markdown_line(&s.cfg.decline_reaction),
            e.id
        ));
    }
    let mut content = crate::chat::notice_markdown(&md);
    content[CONTENT_KEY] = json!({
        "id": e.id,
        "call": e.call_key,
        "email": e.email,
        "submitted_by": e.submitter(),
        "status": e.status,
        "record": bounded(&e.record),
    });
    content
}

/// The record with every text cut to [`RECORD_FIELD_MAX`] bytes, for the event content.
fn bounded(r: &Application) -> Application {
    let cut = |v: &Option<String>| {
        v.as_deref()
            .map(|s| truncate(s, RECORD_FIELD_MAX).into_owned())
    };
    let mut out = r.clone();
    out.name = cut(&r.name);
    out.email = cut(&r.email);
    out.organisation = cut(&r.organisation);
    out.region = cut(&r.region);
    out.partnership = cut(&r.partnership);
    out.motivation = cut(&r.motivation);
    out.subject = cut(&r.subject);
    out.message_id = cut(&r.message_id);
    out.forwarded_by = cut(&r.forwarded_by);
    out.matrix_id = cut(&r.matrix_id);
    for a in &mut out.attachments {
        a.filename = a
            .filename
            .as_deref()
            .map(|f| truncate(f, FILE_MAX * 4).into_owned());
        a.content_type = truncate(&a.content_type, FIELD_MAX).into_owned();
    }
    out
}

/// The whole application as plain text (nothing cut, nothing escaped: it goes into a file,
/// never into a message), for the attachment of a card that had to cut values.
pub fn full_text(e: &Eoi) -> String {
    let r = &e.record;
    let mut out = format!(
        "Application #{} ({}), call {}\n\n",
        e.id, e.email, e.call_key
    );
    let mut line = |label: &str, v: Option<&str>| {
        if let Some(v) = v {
            out.push_str(&format!("{label}: {v}\n"));
        }
    };
    line("Submitted by", e.submitter());
    line("Contact written in the mail", e.contact.as_deref());
    line("Subject", r.subject.as_deref());
    line("Name", r.name.as_deref());
    line("Organisation", r.organisation.as_deref());
    line("Country", r.country.as_deref());
    line("Region", r.region.as_deref());
    line("Partnership", r.partnership.as_deref());
    line("Matrix id", r.matrix_id.as_deref());
    for a in &r.attachments {
        line("Attachment", a.filename.as_deref());
    }
    if let Some(m) = &r.motivation {
        out.push_str(&format!("\nMotivation:\n{m}\n"));
    }
    out
}

#[cfg(test)]
mod tests;
