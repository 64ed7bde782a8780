//! Unit tests of the splitter on small bodies; whole mails from real clients are in
//! `tests/fixtures/bridge/`, exercised through `render`.

use super::*;
use crate::mail::html::{CidImage, sanitize};

fn text(body: &str) -> Split<String> {
    split_text(body, Fold::QuoteAndSignature)
}

fn html(body: &str) -> Split<String> {
    let f = sanitize(body, &|_| CidImage::Missing { name: None }).fragment;
    let s = split_html(f, Fold::QuoteAndSignature);
    Split {
        new: s.new.to_html(),
        signature: s.signature.map(|f| f.to_html()),
        quoted: s.quoted.map(|f| f.to_html()),
    }
}

#[test]
fn attribution_and_quote_folded() {
    for attribution in [
        "On Mon, 3 Jun 2024 at 10:00, Alice Example <alice@example.org> wrote:",
        "Le lun. 3 juin 2024 à 10:00, Alice Example <alice@example.org> a écrit :",
        "Am Mo., 3. Juni 2024 um 10:00 Uhr schrieb Alice Example <alice@example.org>:",
        "Il giorno lun 3 giu 2024 alle ore 10:00 Alice Example <alice@example.org> ha scritto:",
        "El lun, 3 jun 2024 a las 10:00, Alice Example (<alice@example.org>) escribió:",
        "Op ma 3 jun 2024 om 10:00 schreef Alice Example <alice@example.org>:",
        "Em seg., 3 de jun. de 2024 às 10:00, Alice Example <alice@example.org> escreveu:",
        "W dniu 3.06.2024 o 10:00, Alice Example pisze:",
    ] {
        let s = text(&format!(
            "Agreed, see you there.\n\n{attribution}\n> Shall we meet on Thursday?\n>\n> Alice\n"
        ));
        assert_eq!(s.new, "Agreed, see you there.", "{attribution}");
        let quoted = s.quoted.expect(attribution);
        assert!(quoted.starts_with(attribution) && quoted.ends_with("> Alice"));
        assert_eq!(s.signature, None);
    }
}

#[test]
fn attribution_wrapped_over_two_lines() {
    let s = text(
        "Yes.\n\nOn Mon, Jun 3, 2024 at 10:00 AM Alice Example <\nalice@example.org> wrote:\n\n> q1\n> q2",
    );
    assert_eq!(s.new, "Yes.");
    assert!(s.quoted.unwrap().starts_with("On Mon"));
    // The sentence above an attribution is not part of it.
    let s = text("Thanks Alice.\nOn Mon, 3 Jun 2024, Alice <a@example.org> wrote:\n> q1\n> q2");
    assert_eq!(s.new, "Thanks Alice.");
}

#[test]
fn outlook_header_blocks_in_several_languages() {
    for block in [
        "________________________________\nFrom: Alice Example <alice@example.org>\nSent: Monday, June 3, 2024 10:00\nTo: WG <wg@example.org>\nSubject: Agenda",
        "-----Original Message-----\nFrom: Alice\nSent: Monday\nSubject: Agenda",
        "Von: Alice Example <alice@example.org>\nGesendet: Montag, 3. Juni 2024 10:00\nAn: WG\nBetreff: Agenda",
        "De : Alice Example <alice@example.org>\nEnvoyé : lundi 3 juin 2024 10:00\nÀ : WG\nObjet : Agenda",
        "Da: Alice\nInviato: lunedì 3 giugno 2024 10:00\nA: WG\nOggetto: Agenda",
        "De: Alice\nEnviado: lunes, 3 de junio de 2024 10:00\nPara: WG\nAsunto: Agenda",
        "*From:* Alice\n*Sent:* Monday\n*To:* WG\n*Subject:* Agenda",
    ] {
        let s = text(&format!(
            "Fine by me.\n\n{block}\n\nThe previous mail.\nBye"
        ));
        assert_eq!(s.new, "Fine by me.", "{block}");
        let q = s.quoted.unwrap();
        assert!(
            q.starts_with(block.lines().next().unwrap()) && q.ends_with("Bye"),
            "{q}"
        );
    }
}

#[test]
fn prose_with_greater_than_keeps_everything() {
    let body = "Budget: we need > 50 seats.\n> 20 are booked already\nThanks";
    assert_eq!(text(body).new, body);
    assert_eq!(text(body).quoted, None);
    // A single trailing '>' line, no attribution: not enough to call it a quote.
    let body = "Seats:\n> 50 needed";
    assert_eq!(text(body).quoted, None);
}

#[test]
fn inline_reply_keeps_the_answers() {
    let body = "On Mon, 3 Jun 2024, Alice <alice@example.org> wrote:\n> Can you come?\nYes, I can.\n> And bring the slides?\nI will bring them.\n> Thanks\n> Alice";
    let s = text(body);
    for answer in ["Yes, I can.", "I will bring them.", "> Can you come?"] {
        assert!(s.new.contains(answer), "{answer} hidden: {s:?}");
    }
    // Only the quote after the last answer is folded.
    assert_eq!(s.quoted.as_deref(), Some("> Thanks\n> Alice"));
}

#[test]
fn bottom_post_is_not_folded() {
    let body = "On Mon, 3 Jun 2024, Alice <alice@example.org> wrote:\n> Can you come?\n> Alice\n\nYes, I can.";
    let s = text(body);
    assert_eq!(s.new, body);
    assert_eq!(s.quoted, None);
}

#[test]
fn nothing_new_means_nothing_folded() {
    let body = "On Mon, 3 Jun 2024, Alice <alice@example.org> wrote:\n> Can you come?\n> Alice";
    let s = text(body);
    assert_eq!((s.new.as_str(), s.quoted), (body, None));
}

#[test]
fn forwarded_message_is_content() {
    let body = "FYI\n\n---------- Forwarded message ---------\nFrom: Alice <alice@example.org>\nDate: Mon, 3 Jun 2024\nSubject: Agenda\nTo: Bob\n\nThe agenda.";
    assert_eq!(text(body).quoted, None);
    assert!(is_forward("Fwd: Agenda") && is_forward("TR : Agenda") && is_forward("WG: x"));
    assert!(!is_forward("Re: Fwd: Agenda") && !is_forward("Trip report"));
    let s = split_text(
        "See below.\n\nOn Mon, Alice <a@example.org> wrote:\n> a\n> b",
        Fold::SignatureOnly,
    );
    assert_eq!(s.quoted, None);
}

#[test]
fn signatures() {
    let s = text("Thanks,\nBob\n-- \nBob Builder\nDG CONNECT\n+32 2 000 00 00");
    assert_eq!(s.new, "Thanks,\nBob");
    assert_eq!(
        s.signature.as_deref(),
        Some("-- \nBob Builder\nDG CONNECT\n+32 2 000 00 00")
    );
    let s = text(
        "OK for me.\n\nSent from my iPhone\n\nOn 3 Jun 2024, at 10:00, Alice <a@example.org> wrote:\n> a\n> b",
    );
    assert_eq!(s.new, "OK for me.");
    assert_eq!(s.signature.as_deref(), Some("Sent from my iPhone"));
    assert!(s.quoted.is_some());
    // A delimiter followed by a whole letter is a separator, not a signature.
    let long = format!("Intro\n--\n{}", "line\n".repeat(40));
    assert_eq!(text(&long).signature, None);
    // A mail that is only a signature shows it.
    assert_eq!(text("-- \nBob").signature, None);
    let s = text("Envoyé de mon iPhone");
    assert_eq!(
        (s.new.as_str(), s.signature),
        ("Envoyé de mon iPhone", None)
    );
}

#[test]
fn gmail_html() {
    let s = html(
        "<div dir=\"ltr\">Agreed.</div><br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">\
         On Mon, 3 Jun 2024 at 10:00, Alice &lt;<a href=\"mailto:alice@example.org\">alice@example.org</a>&gt; wrote:<br></div>\
         <blockquote class=\"gmail_quote\" style=\"margin:0px\"><div dir=\"ltr\">Thursday?</div></blockquote></div>",
    );
    assert_eq!(s.new, "<div>Agreed.</div><br>");
    let q = s.quoted.unwrap();
    assert!(q.contains("wrote:") && q.contains("Thursday?"), "{q}");
}

#[test]
fn gmail_inline_answers_stay_visible() {
    let s = html(
        "<div class=\"gmail_quote\"><div class=\"gmail_attr\">On Mon, Alice &lt;a@example.org&gt; wrote:</div>\
         <blockquote class=\"gmail_quote\">Can you come?</blockquote><div>Yes, I can.</div>\
         <blockquote class=\"gmail_quote\">Thanks<br>Alice</blockquote></div>",
    );
    assert!(
        s.new.contains("Yes, I can.") && s.new.contains("Can you come?"),
        "{s:?}"
    );
    assert!(s.quoted.unwrap().contains("Thanks"));
}

#[test]
fn outlook_web_and_desktop_html() {
    let owa = html(
        "<div>Fine by me.</div><div id=\"appendonsend\"></div><hr style=\"display:inline-block\" tabindex=\"-1\">\
         <div id=\"divRplyFwdMsg\" dir=\"ltr\"><font face=\"Calibri\"><b>From:</b> Alice<br><b>Sent:</b> Monday<br>\
         <b>To:</b> WG<br><b>Subject:</b> Agenda</font></div><div>The previous mail</div>",
    );
    assert_eq!(owa.new, "<div>Fine by me.</div>");
    // Cut at the empty marker Outlook leaves above its rule and header block.
    let q = owa.quoted.unwrap();
    assert!(
        q.starts_with("<div></div><hr>") && q.ends_with("The previous mail</div>"),
        "{q}"
    );
    let desktop = html(
        "<div class=\"WordSection1\"><p class=\"MsoNormal\">Einverstanden.<o:p></o:p></p>\
         <div style=\"border:none;border-top:solid #E1E1E1 1.0pt\"><p class=\"MsoNormal\"><b>Von:</b> Alice <br>\
         <b>Gesendet:</b> Montag, 3. Juni 2024 10:00<br><b>An:</b> WG<br><b>Betreff:</b> Agenda</p></div>\
         <p class=\"MsoNormal\">Vorherige Nachricht</p></div>",
    );
    assert_eq!(desktop.new, "<div><p>Einverstanden.</p></div>");
    let q = desktop.quoted.unwrap();
    assert!(
        q.contains("Von:") && q.contains("Vorherige Nachricht"),
        "{q}"
    );
}

#[test]
fn apple_and_thunderbird_html() {
    let apple = html(
        "<div dir=\"ltr\">See you.</div><div dir=\"ltr\"><br><blockquote type=\"cite\">On 3 Jun 2024, at 10:00, \
         Alice &lt;alice@example.org&gt; wrote:<br><br></blockquote></div><blockquote type=\"cite\"><div>Thursday?</div></blockquote>",
    );
    assert!(
        apple.new.contains("See you.") && !apple.new.contains("Thursday"),
        "{apple:?}"
    );
    assert!(apple.quoted.unwrap().contains("Thursday?"));
    let tb = html(
        "<p>Yes.</p><pre class=\"moz-signature\" cols=\"72\">-- \nBob</pre>\
         <div class=\"moz-cite-prefix\">On 03/06/2024 10:00, Alice wrote:<br></div>\
         <blockquote type=\"cite\" cite=\"mid:x@y\">Thursday?</blockquote>",
    );
    assert_eq!(tb.new, "<p>Yes.</p>");
    assert_eq!(tb.signature.as_deref(), Some("<pre>-- \nBob</pre>"));
    assert!(tb.quoted.unwrap().starts_with("<div>On 03/06/2024"));
}

#[test]
fn html_blockquote_without_attribution_is_content() {
    let s = html("<p>The regulation says:</p><blockquote>Article 5 applies.</blockquote>");
    assert_eq!(s.quoted, None);
    assert!(s.new.contains("Article 5"));
}

#[test]
fn html_signature_delimiter_and_trailer() {
    let s = html("<div>Thanks</div><div>-- <br></div><div>Bob Builder</div>");
    assert_eq!(s.new, "<div>Thanks</div>");
    assert_eq!(
        s.signature.as_deref(),
        Some("<div>-- <br></div><div>Bob Builder</div>")
    );
    let s = html("<div>OK</div><div id=\"AppleMailSignature\">Sent from my iPhone</div>");
    assert_eq!(
        s.signature.as_deref(),
        Some("<div>Sent from my iPhone</div>")
    );
    // Only a signature: shown whole.
    let s = html("<div class=\"gmail_signature\">Bob</div>");
    assert_eq!((s.new.as_str(), s.signature), ("<div>Bob</div>", None));
}

#[test]
fn html_lines_inside_one_text_node_are_not_cut() {
    // A plain-text mail sent as one <pre>: its lines share one text node, which cannot be cut.
    let s = html("<pre>Yes.\n-- \nBob</pre>");
    assert_eq!(
        (s.new.as_str(), s.signature),
        ("<pre>Yes.\n-- \nBob</pre>", None)
    );
    // The same signature in its own node is folded.
    let s = html("<pre>Yes.</pre><pre>-- \nBob</pre>");
    assert_eq!(s.signature.as_deref(), Some("<pre>-- \nBob</pre>"));
}

#[test]
fn a_signature_never_swallows_what_follows_it() {
    // Bottom-posted: the quoted mail's own signature marker must not hide the answer below.
    let s = html(
        "<blockquote class=\"gmail_quote\">Can you come?<div class=\"gmail_signature\">Alice</div></blockquote>\
         <div>Yes, I can.</div>",
    );
    assert_eq!(s.signature, None);
    assert!(s.new.contains("Yes, I can."), "{s:?}");
    // A forward: the signature above the forwarded message is not followed by it.
    let s = split_text(
        "FYI\n-- \nBob\n\n---------- Forwarded message ---------\nFrom: Carol\nDate: Mon\nSubject: x\n\nThe paper.",
        Fold::SignatureOnly,
    );
    assert_eq!(s.signature, None);
    assert!(s.new.ends_with("The paper."));
    // A delimiter before a quote that stays shown.
    let s = text("Thanks\n-- \nBob\n> quoted\nmy answer");
    assert_eq!((s.signature, s.quoted), (None, None));
}

#[test]
fn outlook_marker_inside_a_quote_keeps_later_answers() {
    let s = html(
        "<div class=\"gmail_quote\"><div>On Mon, Alice &lt;a@example.org&gt; wrote:</div>\
         <blockquote class=\"gmail_quote\"><div>first</div><div id=\"divRplyFwdMsg\"><b>From:</b> Carol<br>\
         <b>Sent:</b> Monday<br><b>Subject:</b> x</div><div>older</div></blockquote>\
         <div>My answer.</div><blockquote class=\"gmail_quote\">rest</blockquote></div>",
    );
    assert!(s.new.contains("My answer."), "{s:?}");
    assert!(s.quoted.unwrap().contains("rest"));
}

#[test]
fn more_languages() {
    let s = text(
        "Sí.\n\nDe: Alice\nEnviado el: lunes, 3 de junio de 2024 10:00\nPara: WG\nAsunto: x\n\nold",
    );
    assert_eq!(s.new, "Sí.");
    for attribution in [
        "Op 3 jun. 2024 om 10:00 heeft Alice <a@example.org> het volgende geschreven:",
        "pon., 3 cze 2024 o 10:00 Alice <a@example.org> napisał(a):",
        "Den 3 juni 2024 kl. 10:00 skrev Alice <a@example.org>:",
        "Alice <a@example.org> kirjoitti 3.6.2024 klo 10.00:",
    ] {
        let s = text(&format!("Ok.\n\n{attribution}\n> a\n"));
        assert_eq!(s.new, "Ok.", "{attribution}");
    }
}
