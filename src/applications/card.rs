//! The EoI card posted to the management room (and the `!eoi show` text): Markdown rendered to
//! HTML, with the structured record under `org.convene.eoi` in the event content.

use serde_json::json;

use super::extract::Application;
use super::store::Eoi;

/// The namespaced key holding the structured record in a card's content.
pub const CONTENT_KEY: &str = "org.convene.eoi";

/// The record as Markdown: who, what, what is missing.
pub fn markdown(e: &Eoi, title: &str) -> String {
    let r = &e.record;
    let none = "—".to_string();
    let name = r.name.clone().unwrap_or_else(|| none.clone());
    let mut out = format!(
        "**{title} #{}** — {name} <{}> · status **{}** · call `{}`\n\n",
        e.id, e.email, e.status, e.call_key
    );
    let mut line = |label: &str, value: String| out.push_str(&format!("- {label}: {value}\n"));
    line(
        "Organisation",
        r.organisation.clone().unwrap_or_else(|| none.clone()),
    );
    let stype = r
        .stakeholder_type
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    line("Stakeholder type", stype.unwrap_or_else(|| none.clone()));
    let place = match (&r.country, &r.region) {
        (Some(c), Some(reg)) => format!("{c} ({reg})"),
        (Some(c), None) => c.clone(),
        (None, Some(reg)) => reg.clone(),
        (None, None) => none.clone(),
    };
    line("Country", place);
    let groups = if r.groups.is_empty() {
        none.clone()
    } else {
        r.groups.join(", ")
    };
    line("Groups", groups);
    if let Some(p) = &r.partnership {
        line("Partnership", p.clone());
    }
    line("Role sought", role_name(r).unwrap_or_else(|| none.clone()));
    line(
        "Matrix id",
        r.matrix_id.clone().unwrap_or_else(|| none.clone()),
    );
    line("Language", r.language.clone());
    if !r.attachments.is_empty() {
        let list: Vec<String> = r
            .attachments
            .iter()
            .map(|a| {
                format!(
                    "{} ({}, {} bytes)",
                    a.filename.as_deref().unwrap_or("unnamed"),
                    a.content_type,
                    a.size
                )
            })
            .collect();
        line("Attachments", list.join("; "));
    }
    if let Some(fwd) = &r.forwarded_by {
        line("Forwarded by", fwd.clone());
    }
    if let (Some(g), Some(role)) = (&e.group_slug, &e.decided_role) {
        line("Decision", format!("{} in {g} as {role}", e.status));
    }
    line(
        "Missing",
        if r.missing.is_empty() {
            "nothing".into()
        } else {
            r.missing.join(", ")
        },
    );
    if let Some(m) = &r.motivation {
        let short: String = m.chars().take(600).collect();
        let cut = if short.len() < m.len() { "…" } else { "" };
        out.push_str(&format!("\n> {}{cut}\n", short.replace('\n', "\n> ")));
    }
    out
}

pub fn role_name(r: &Application) -> Option<String> {
    r.role
        .and_then(|x| serde_json::to_value(x).ok())
        .and_then(|v| v.as_str().map(str::to_string))
}

/// The card as configured: in full, or with the summary fields only.
pub fn content_as(e: &Eoi, title: &str, hint: bool, minimal: bool) -> serde_json::Value {
    if minimal {
        summary_content(e, title)
    } else {
        content(e, title, hint)
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

/// The card's event content: the Markdown as a notice plus the structured record.
pub fn content(e: &Eoi, title: &str, hint: bool) -> serde_json::Value {
    let mut md = markdown(e, title);
    if hint {
        md.push_str(&format!(
            "\nReact ✅ to accept or ❌ to decline; `!eoi show {}` for details.",
            e.id
        ));
    }
    let mut content = crate::chat::notice_markdown(&md);
    content[CONTENT_KEY] = json!({
        "id": e.id,
        "call": e.call_key,
        "email": e.email,
        "status": e.status,
        "record": e.record,
    });
    content
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applications::extract::{ExtractConfig, parse_eml};

    #[test]
    fn card_has_markdown_html_and_the_record() {
        let raw = "From: Ana <ana@x.test>\nSubject: Expression of interest\n\nName: Ana Ruiz\n\
                   Organisation: Junta\nCountry: Spain\nMotivation: we care\n";
        let record = parse_eml(raw.as_bytes(), &ExtractConfig::default()).unwrap();
        let e = Eoi {
            id: 4,
            call_key: "2026".into(),
            email: "ana@x.test".into(),
            status: "incomplete".into(),
            record,
            reply_to: "ana@x.test".into(),
            message_id: None,
            group_slug: None,
            decided_role: None,
            decisions: 0,
            last_ack_at: None,
            created_at: 0,
            updated_at: 0,
        };
        let c = content(&e, "Expression of interest", true);
        let body = c["body"].as_str().unwrap();
        assert!(body.contains("Expression of interest #4"), "{body}");
        assert!(body.contains("Organisation: Junta"), "{body}");
        assert!(c["formatted_body"].as_str().unwrap().contains("<strong>"));
        assert_eq!(c[CONTENT_KEY]["id"], 4);
        assert_eq!(c[CONTENT_KEY]["record"]["country"], "ES");
    }
}
