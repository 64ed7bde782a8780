//! Exports of the applications for the selection committee: CSV (RFC 4180: comma-separated,
//! CRLF line ends, fields quoted when they hold a comma, quote or line break) and JSON, and
//! the CSV uploaded as a file ([`upload`], for `!eoi export`). Both say who submitted a
//! record that is not the applicant's own, the contact address a mail only claimed, and
//! what our server made of the sender; records joined into another are left out.

use serde_json::json;

use super::Applications;
use super::card::role_name;
use super::store::{self, Eoi};
use crate::outbox::{Key, MatrixOp, Report};

const HEADER: &[&str] = &[
    "id",
    "call",
    "status",
    "email",
    "name",
    "organisation",
    "stakeholder_type",
    "country",
    "region",
    "groups",
    "partnership",
    "role",
    "matrix_id",
    "missing",
    "accepted_group",
    "accepted_role",
    "motivation",
    "submitted_by",
    "contact_claimed",
    "sender",
];

/// One CSV field, quoted when needed. A field a spreadsheet could read as a formula is
/// prefixed with `'`, so an applicant's text is never run: one that starts with `=`, `+`,
/// `-`, `@` or their full-width forms `＝＋－＠` (which some locales and input methods turn
/// into the ASCII ones), also after leading whitespace (import settings that trim cells would
/// expose the trigger), and one that starts with a tab, CR or LF (OWASP lists them: importers
/// that drop them read whatever follows).
pub fn csv_field(value: &str) -> String {
    const TRIGGERS: [char; 8] = ['=', '+', '-', '@', '＝', '＋', '－', '＠'];
    let formula = value.starts_with(['\t', '\r', '\n']) || value.trim_start().starts_with(TRIGGERS);
    let value = if formula {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn row(e: &Eoi) -> Vec<String> {
    let r = &e.record;
    let stype = r
        .stakeholder_type
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| v.as_str().map(str::to_string));
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        e.id.to_string(),
        e.call_key.clone(),
        e.status.clone(),
        e.email.clone(),
        opt(&r.name),
        opt(&r.organisation),
        stype.unwrap_or_default(),
        opt(&r.country),
        opt(&r.region),
        r.groups.join(" "),
        opt(&r.partnership),
        role_name(r).unwrap_or_default(),
        opt(&r.matrix_id),
        r.missing.join(" "),
        opt(&e.group_slug),
        opt(&e.decided_role),
        opt(&r.motivation),
        e.submitter().unwrap_or_default().to_owned(),
        opt(&e.contact),
        e.sender_auth
            .as_ref()
            .map(|a| a.summary())
            .unwrap_or_default(),
    ]
}

pub fn csv(eois: &[Eoi]) -> String {
    let mut out = HEADER.join(",");
    out.push_str("\r\n");
    for e in eois {
        let fields: Vec<String> = row(e).iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn json(eois: &[Eoi]) -> serde_json::Value {
    json!(
        eois.iter()
            .map(|e| json!({
                "id": e.id,
                "call": e.call_key,
                "status": e.status,
                "email": e.email,
                "accepted_group": e.group_slug,
                "accepted_role": e.decided_role,
                "own": e.is_own(),
                "submitted_by": e.submitter(),
                "contact_claimed": e.contact,
                "sender": e.sender_auth,
                "record": e.record,
            }))
            .collect::<Vec<_>>()
    )
}

/// Queues the CSV of every application as an `m.file` upload to `room` under `key` (the
/// command's event), so the file is posted once even when the command is handled twice. The
/// transport's upload encrypts it in an encrypted room; the caller decides whether the room
/// may have it. Returns how many applications the file holds.
pub async fn upload(apps: &Applications, key: Key, room: &str) -> anyhow::Result<usize> {
    let all = store::list(&apps.db, None, None).await?;
    let bytes = csv(&all).into_bytes();
    let name = format!(
        "eoi-export-{}.csv",
        chrono::Utc::now().format("%Y-%m-%d-%H%M%S")
    );
    let op = MatrixOp::Upload {
        room: room.to_owned(),
        filename: name,
        content_type: "text/csv".into(),
        thread_root: None,
    };
    let mut tx = apps.outbox.begin().await?;
    tx.matrix(key, op, Some(&bytes), Report::none()).await?;
    tx.commit().await?;
    Ok(all.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_escaping() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("-1,2"), "\"'-1,2\"");
        assert_eq!(csv_field(""), "");
    }

    #[test]
    fn csv_formula_guard() {
        for (input, want) in [
            ("+1", "'+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("＝1+1", "'＝1+1"),
            ("＋1", "'＋1"),
            ("－1", "'－1"),
            ("＠SUM(A1)", "'＠SUM(A1)"),
            ("  =1+1", "'  =1+1"),
            ("\u{a0}\u{3000}=1", "'\u{a0}\u{3000}=1"),
            ("\t=1", "'\t=1"),
            ("\tplain", "'\tplain"),
            ("\r=1", "\"'\r=1\""),
            ("\n=1", "\"'\n=1\""),
            (" -2,3", "\"' -2,3\""),
        ] {
            assert_eq!(csv_field(input), want, "{input:?}");
        }
        // Triggers later in the text are ordinary characters.
        for plain in [
            "a=b",
            "Aino + Ilkka",
            "e-mail",
            "alice@example.org",
            " text",
        ] {
            assert_eq!(csv_field(plain), plain);
        }
    }

    #[test]
    fn empty_export_has_the_header() {
        assert_eq!(csv(&[]), format!("{}\r\n", HEADER.join(",")));
        assert_eq!(json(&[]), json!([]));
    }
}
