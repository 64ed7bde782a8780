use super::*;
use mail_parser::MessageParser;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/bridge/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse(raw: &[u8]) -> Message<'_> {
    MessageParser::default().parse(raw).expect("parseable")
}

fn body(v: &Value) -> &str {
    v["body"].as_str().unwrap()
}

fn formatted(v: &Value) -> &str {
    v["formatted_body"].as_str().unwrap()
}

/// Where `needle` sits in `haystack`, failing the test if it is absent.
fn at(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {haystack}"))
}

#[test]
fn escapes_and_truncates() {
    let long = "x".repeat(BUDGET + 10);
    let raw =
        format!("From: A <a@b.test>\r\nSubject: <script>\r\nMessage-ID: <id1@b>\r\n\r\n{long}");
    let msg = parse(raw.as_bytes());
    let r = render(&msg, 7, None, &|_| None);
    let html = formatted(&r.content);
    assert!(html.contains("&lt;script&gt;") && !html.contains("<script>"));
    assert!(body(&r.content).ends_with(TRUNCATED_NOTE));
    assert!(r.truncated);
    assert_eq!(r.content["org.convene.mail"]["message_id"], "id1@b");
    assert_eq!(r.content["org.convene.mail"]["inbound_id"], 7);
    assert_eq!(r.content["org.convene.mail"]["subject"], "<script>");
    assert_eq!(mail_event(&msg, 7, None), r.content);
}

#[test]
fn hostile_html_is_sanitised() {
    let raw = fixture("hostile-html.eml");
    let v = mail_event(&parse(&raw), 1, None);
    let html = formatted(&v);
    for gone in [
        "<script",
        "steal",
        "cookie",
        "<style",
        "background",
        "onclick",
        "onload",
        "<form",
        "<input",
        "<button",
        "<iframe",
        "no frames",
        "javascript",
        "JavaScript",
        "data:",
        "base64",
        "tracking.attacker",
        "open.gif",
        "cdn.attacker",
        "<img",
        "Outlook only",
        "<title",
        "Newsletter",
        "<meta",
        "refresh",
        "<base",
        "attacker.test/",
    ] {
        assert!(!html.contains(gone), "{gone:?} survived in {html}");
    }
    for kept in [
        "<p>Dear members,</p>",
        "<a href=\"https://example.eu/agenda.pdf\">draft agenda</a>",
        "<ul><li>Item one</li><li>Item two</li></ul>",
        "<th>Date</th>",
        "<td>BERL 1/23</td>",
        "click me",
        "[image: Conference banner]",
    ] {
        assert!(html.contains(kept), "{kept:?} missing from {html}");
    }
    // The subject is the sender's text, not markup.
    assert!(html.contains("Invitation &lt;b&gt;urgent&lt;/b&gt;"));
    // No text part: the body is the text rendering of the sanitised HTML.
    let text = body(&v);
    assert!(
        text.contains("draft agenda <https://example.eu/agenda.pdf>"),
        "{text}"
    );
    assert!(text.contains("- Item one") && text.contains("12 June | BERL 1/23"));
    assert!(!text.contains("steal") && !text.contains("<script"));
}

#[test]
fn replies_show_the_new_text_and_fold_the_quote() {
    for (name, new, old) in [
        (
            "reply-gmail.eml",
            "item 3 works for us",
            "Comments by Friday",
        ),
        (
            "reply-outlook-en.eml",
            "We agree with the agenda",
            "Comments by Friday",
        ),
        (
            "reply-outlook-de.eml",
            "Wir nehmen mit zwei Personen teil",
            "Anmerkungen bis Freitag",
        ),
        (
            "reply-outlook-fr.eml",
            "Nous serons présents",
            "Veuillez trouver",
        ),
        (
            "reply-apple-mail.eml",
            "I will join remotely",
            "Comments by Friday",
        ),
        (
            "reply-thunderbird.eml",
            "Poland supports the agenda",
            "Comments by Friday",
        ),
        (
            "reply-plain-quote.eml",
            "No comments from Sweden",
            "Comments by Friday",
        ),
        ("reply-attribution-fr.eml", "pour le point 3", "projet d"),
        (
            "reply-attribution-de.eml",
            "Einverstanden mit Punkt 3",
            "anbei der Entwurf",
        ),
        (
            "reply-attribution-it.eml",
            "Va bene per il punto 3",
            "in allegato la bozza",
        ),
        (
            "reply-attribution-es.eml",
            "De acuerdo con el punto 3",
            "adjunto el borrador",
        ),
    ] {
        let raw = fixture(name);
        let v = mail_event(&parse(&raw), 1, None);
        let (html, text) = (formatted(&v), body(&v));
        let folded = at(html, "<details><summary>Quoted text</summary>");
        assert!(
            at(html, new) < folded,
            "{name}: new text not shown first: {html}"
        );
        assert!(at(html, old) > folded, "{name}: quote not folded: {html}");
        assert!(text.contains(new), "{name}: {text}");
        assert!(text.contains(QUOTE_MARKER), "{name}: {text}");
        assert!(!text.contains(old), "{name}: quote in body: {text}");
        // The quoted mail's headers and attribution go with it.
        for header in [
            "Sent:",
            "Gesendet:",
            "Envoyé",
            "wrote:",
            "a écrit",
            "schrieb",
            "ha scritto",
            "escribió",
        ] {
            assert!(!text.contains(header), "{name}: {header} left in {text}");
        }
    }
}

#[test]
fn signature_folded() {
    let raw = fixture("signature.eml");
    let v = mail_event(&parse(&raw), 1, None);
    let (html, text) = (formatted(&v), body(&v));
    assert!(
        text.contains("We nominate Carol as our second delegate.\n\nBob\n\n[signature hidden]"),
        "{text}"
    );
    assert!(!text.contains("Head of Unit"));
    assert!(at(html, "Head of Unit") > at(html, "<details><summary>Signature</summary>"));
    assert!(!html.contains("Quoted text"));
    // Thunderbird: signature and quote, each folded on its own.
    let raw = fixture("reply-thunderbird.eml");
    let v = mail_event(&parse(&raw), 1, None);
    let html = formatted(&v);
    let sig = at(html, "<details><summary>Signature</summary>");
    assert!(sig < at(html, "Ministry of Digital Affairs"));
    assert!(at(html, "Ministry of Digital Affairs") < at(html, "<summary>Quoted text</summary>"));
    assert!(body(&v).ends_with("[signature hidden]\n\n[quoted text hidden]"));
}

#[test]
fn prose_and_inline_replies_keep_the_new_text() {
    let raw = fixture("prose-greater-than.eml");
    let v = mail_event(&parse(&raw), 1, None);
    for line in [
        "attendance > 40",
        ">40 people registered",
        "Please book BERL 1/23.",
    ] {
        assert!(body(&v).contains(line), "{line} lost: {}", body(&v));
    }
    assert!(!formatted(&v).contains("<details>") && !body(&v).contains(QUOTE_MARKER));

    let raw = fixture("inline-reply.eml");
    let v = mail_event(&parse(&raw), 1, None);
    let text = body(&v);
    for line in [
        "Will you attend in person?",
        "Yes, two of us.",
        "Do you need a projector?",
        "No, thanks.",
    ] {
        assert!(text.contains(line), "{line} hidden: {text}");
    }
    // Only the quote after the last answer is folded.
    assert!(text.contains(QUOTE_MARKER) && !text.contains("Please confirm by Friday"));
}

#[test]
fn forwarded_content_is_not_folded() {
    let raw = fixture("forward-gmail.eml");
    let v = mail_event(&parse(&raw), 1, None);
    assert!(body(&v).contains("Our position on item 3 is attached."));
    assert!(!body(&v).contains(QUOTE_MARKER));
    assert!(
        formatted(&v).contains("Our position on item 3") && !formatted(&v).contains("<details>")
    );
}

#[test]
fn cid_images_and_attachments() {
    let raw = fixture("cid-images.eml");
    let msg = parse(&raw);
    let r = render(&msg, 1, None, &|_| None);
    assert_eq!(r.parts, parts(&msg));
    let names: Vec<(&str, bool, Option<&str>)> = r
        .parts
        .iter()
        .map(|p| (p.filename.as_str(), p.inline, p.content_id.as_deref()))
        .collect();
    assert_eq!(
        names,
        [
            ("chart.png", true, Some("chart.png@01DA0000")),
            ("logo.png", true, Some("logo@01DA0000")),
            ("positiongnp.pdf", false, None),
        ]
    );
    let pdf = &r.parts[2];
    assert_eq!(pdf.content_type, "application/pdf");
    let bytes = msg.part(pdf.index).unwrap().contents();
    assert!(bytes.starts_with(b"%PDF") && pdf.size == bytes.len());
    // Not uploaded: placeholders, and only the real attachment listed.
    let html = formatted(&r.content);
    assert!(
        html.contains("[image: Adoption chart]") && html.contains("[image: logo.png]"),
        "{html}"
    );
    assert!(!html.contains("cid:") && !html.contains("<img"));
    assert!(body(&r.content).contains("Attachments: positiongnp.pdf\n"));
    // The chart uploaded: shown in place; the logo still a placeholder.
    let r = render(&msg, 1, None, &|cid| {
        (cid == "chart.png@01DA0000").then(|| "mxc://example.org/chart123".to_owned())
    });
    let html = formatted(&r.content);
    assert!(
        html.contains(
            "<img src=\"mxc://example.org/chart123\" alt=\"Adoption chart\" width=\"400\">"
        ),
        "{html}"
    );
    assert!(html.contains("[image: logo.png]"));
}

#[test]
fn file_names_are_safe() {
    assert_eq!(
        filename(Some("C:\\Users\\x\\..\\report.pdf"), 3, "application/pdf"),
        "report.pdf"
    );
    assert_eq!(filename(Some("..."), 3, "image/png"), "part-3.png");
    assert_eq!(filename(None, 4, "application/vnd.ms-excel"), "part-4");
    let long = format!("{}.docx", "n".repeat(300));
    let short = filename(Some(&long), 1, "application/octet-stream");
    assert!(
        short.ends_with("….docx") && short.chars().count() == MAX_FILENAME_CHARS,
        "{short}"
    );
}

#[test]
fn header_strings_cannot_forge_lines() {
    let raw = "From: =?utf-8?q?Eve=0AAttachments:_invoice.exe?= <eve@x.test>\r\n\
               Subject: =?utf-8?q?Hi=0A=0AFrom:_CEO?=\r\n\r\nhello";
    let v = mail_event(&parse(raw.as_bytes()), 1, None);
    let text = body(&v);
    assert!(
        !text.lines().any(|l| l.starts_with("Attachments:")),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("From:")).count(),
        1,
        "{text}"
    );
}

fn assert_fits(v: &Value) {
    let size = serde_json::to_vec(v).unwrap().len();
    assert!(size <= BUDGET, "content is {size} bytes");
    let html = formatted(v);
    for tag in ["p", "blockquote", "details", "b", "li", "ul"] {
        let opened = html.matches(&format!("<{tag}>")).count();
        assert_eq!(
            opened,
            html.matches(&format!("</{tag}>")).count(),
            "<{tag}> in {html}"
        );
    }
    assert!(body(v).ends_with(TRUNCATED_NOTE));
    assert!(html.ends_with(&format!("<p><em>{TRUNCATED_NOTE}</em></p>")));
    assert!(body(v).starts_with("✉ "), "header kept");
}

#[test]
fn a_megabyte_mail_stays_under_the_budget() {
    let paragraph = "The working group discussed item 3 at length and agreed to revise the draft. ";
    let text: String = (0..13_000).map(|i| format!("{paragraph}{i}\n")).collect();
    let html: String = (0..9_000)
        .map(|i| format!("<p>{paragraph}<b>{i}</b></p><ul><li>point</li></ul>\n"))
        .collect();
    let raw = format!(
        "From: A <a@b.test>\r\nSubject: Minutes\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\
         --b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b--\r\n"
    );
    assert!(raw.len() > 1_000_000);
    let r = render(&parse(raw.as_bytes()), 1, None, &|_| None);
    assert!(r.truncated);
    assert_fits(&r.content);
    assert!(body(&r.content).contains(paragraph) && formatted(&r.content).contains(paragraph));
}

#[test]
fn multibyte_and_control_characters_truncate_cleanly() {
    for unit in ["日本語のテキスト🎉", "\u{1}\u{2}\"\\"] {
        let text = unit.repeat(200_000 / unit.len());
        let raw = format!(
            "From: A <a@b.test>\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}"
        );
        let r = render(&parse(raw.as_bytes()), 1, None, &|_| None);
        assert!(r.truncated);
        assert_fits(&r.content);
        let shown = body(&r.content)
            .strip_prefix("✉ x\nFrom: A <a@b.test>\n\n")
            .and_then(|b| b.strip_suffix(&format!("\n\n{TRUNCATED_NOTE}")))
            .expect("header and note around the text");
        assert!(!shown.is_empty() && text.starts_with(shown));
        assert!(!shown.contains('\u{fffd}'));
    }
}

#[test]
fn html_too_large_to_read_whole_is_reported() {
    let html = format!("<p>Agenda</p>{}", "<div>".repeat(50_000));
    let raw = format!("From: A <a@b.test>\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n{html}");
    let r = render(&parse(raw.as_bytes()), 1, None, &|_| None);
    assert!(r.truncated);
    assert_fits(&r.content);
    assert!(formatted(&r.content).contains("<p>Agenda</p>"));
}

/// Every fixture, rendered with every inline image uploaded: the corpus the properties
/// below hold for.
fn corpus() -> Vec<(String, Rendered)> {
    let dir = format!("{}/tests/fixtures/bridge", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    names.sort();
    assert!(names.len() >= 15, "fixtures missing from {dir}");
    names
        .into_iter()
        .map(|name| {
            let raw = fixture(&name);
            let r = render(&parse(&raw), 1, None, &|cid| {
                Some(format!(
                    "mxc://example.org/{}",
                    cid.replace(['.', '@'], "_")
                ))
            });
            (name, r)
        })
        .collect()
}

#[test]
fn formatted_bodies_are_inside_the_matrix_allowlist() {
    for (name, r) in corpus() {
        let html = formatted(&r.content);
        let reparsed = ruma_html::Html::parse(html).to_string();
        let strict = ruma_html::Html::parse(html);
        strict.sanitize_with(&ruma_html::SanitizerConfig::strict());
        assert_eq!(
            strict.to_string(),
            reparsed,
            "{name}: the sanitiser still had work"
        );
        assert!(html.contains("<blockquote>"), "{name}");
        assert!(
            serde_json::to_vec(&r.content).unwrap().len() <= BUDGET,
            "{name}"
        );
    }
    let (_, cid) = corpus()
        .into_iter()
        .find(|(n, _)| n == "cid-images.eml")
        .unwrap();
    assert!(formatted(&cid.content).contains("<img src=\"mxc://example.org/logo_01DA0000\""));
}

#[test]
fn json_len_matches_serde_json() {
    let s = "a\"b\\c\nd\te\u{1}f\u{7f}é🎉\u{2028}</script>";
    assert_eq!(json_len(s) + 2, serde_json::to_string(s).unwrap().len());
}
