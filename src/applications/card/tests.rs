use super::*;
use crate::applications::extract::{ExtractConfig, parse_eml};
use crate::applications::store::SenderAuth;

fn eoi(raw: &str) -> Eoi {
    let record = parse_eml(raw.as_bytes(), &ExtractConfig::default()).unwrap();
    Eoi {
        id: 4,
        call_key: "2026".into(),
        email: "ana@x.test".into(),
        owner: String::new(),
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
        submitted_by: None,
        contact: None,
        sender_auth: None,
        joined_into: None,
    }
}

fn settings() -> Settings {
    let config =
        crate::config::Config::from_toml(crate::config::EXAMPLE, std::iter::empty()).unwrap();
    Settings::from_config(&config)
}

#[test]
fn card_has_markdown_html_and_the_record() {
    let e = eoi(
        "From: Ana <ana@x.test>\nSubject: Expression of interest\n\nName: Ana Ruiz\n\
                 Organisation: Junta\nCountry: Spain\nMotivation: we care\n",
    );
    let c = content(&settings(), &e, "Expression of interest", true, &[]);
    let body = c["body"].as_str().unwrap();
    assert!(body.contains("Expression of interest #4"), "{body}");
    assert!(body.contains("Organisation: Junta"), "{body}");
    assert!(
        body.contains("React ✅ to accept or ❌ to decline"),
        "{body}"
    );
    assert!(c["formatted_body"].as_str().unwrap().contains("<strong>"));
    assert_eq!(c[CONTENT_KEY]["id"], 4);
    assert_eq!(c[CONTENT_KEY]["record"]["country"], "ES");
    assert_eq!(c["m.mentions"], json!({}));
}

/// Hostile names, organisations, subjects, motivations and file names produce no link, no
/// tag but the card's own, no live mention; the address is no autolink.
#[test]
fn nothing_from_mail_becomes_markup() {
    let raw = "From: x <ana@x.test>\nSubject: [Approve](https://phish.example/s) <b>now</b>\n\
               MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\
               Content-Type: text/plain\n\n\
               Name: <a href=\"https://phish.example\">Accept here</a>\n\
               Organisation: [Approve now](https://phish.example/o) @room\n\
               Country: Spain\nRegion: ![x](https://phish.example/i.png)\n\
               Motivation: # Heading\n> quote\n<script>alert(1)</script> **bold** \
               <https://phish.example/auto> [ref]: https://phish.example @room\n\
               --b\nContent-Type: application/pdf\n\
               Content-Disposition: attachment; filename=\"[cv](https://phish.example).pdf\"\n\n\
               %PDF\n--b--\n";
    let mut e = eoi(raw);
    e.email = "<vera@x.test>".into();
    e.contact = Some("<https://phish.example/c>".into());
    e.sender_auth = Some(SenderAuth {
        alignment: "unaligned".into(),
        envelope: "<[x](https://phish.example/e)>".into(),
        verdict: "unverified".into(),
        verified: false,
        results: vec!["spf=pass smtp.mailfrom=<a href=x>".into()],
    });
    let c = content(&settings(), &e, "Expression of interest", true, &[]);
    let html = c["formatted_body"].as_str().unwrap();
    assert!(!html.contains("<a"), "{html}");
    assert!(
        !html.contains("<img") && !html.contains("<script"),
        "{html}"
    );
    assert!(
        !html.contains("<h1") && !html.contains("<em>bold"),
        "{html}"
    );
    assert!(!html.contains("<b>"), "{html}");
    let tags: std::collections::BTreeSet<&str> = html
        .split('<')
        .skip(1)
        .map(|t| t.split(['>', ' ']).next().unwrap_or_default())
        .collect();
    for t in &tags {
        assert!(
            [
                "p",
                "/p",
                "strong",
                "/strong",
                "ul",
                "/ul",
                "li",
                "/li",
                "code",
                "/code",
                "blockquote",
                "/blockquote",
                "br",
                "br /"
            ]
            .contains(t),
            "tag {t} in {html}"
        );
    }
    let body = c["body"].as_str().unwrap();
    assert!(!body.contains(" @room"), "live @room in {body}");
    assert!(
        html.contains("Accept here"),
        "the words stay readable: {html}"
    );
}

#[test]
fn long_values_are_cut_and_the_whole_text_kept() {
    let long = "word ".repeat(20_000);
    let raw = format!(
        "From: Ana <ana@x.test>\nSubject: {}\n\nName: Ana\nOrganisation: Junta\n\
         Motivation: {long}\n",
        "s".repeat(40_000)
    );
    let e = eoi(&raw);
    assert!(is_cut(&e));
    let c = content(&settings(), &e, "Expression of interest", true, &[]);
    let size = serde_json::to_vec(&c).unwrap().len();
    assert!(size < 20_000, "card of {size} bytes");
    assert!(c["body"].as_str().unwrap().contains("application-4.txt"));
    let full = full_text(&e);
    assert!(full.contains(long.trim_end()) && full.len() > 140_000);
}
