//! Mail → rooms as a secretariat would want it: HTML kept to the safe structure, quotes
//! folded, attachments and inline images as real files (encrypted in an encrypted room), a
//! big mail cut with its original attached.

use std::time::Duration;

use super::helpers::{b64, binary, content, head, media, wait_in_thread};
use crate::support::{Options, TestApp, send_raw, unique};
use crate::{MAIL_WAIT, SETTLE};

async fn started(opts: Options) -> TestApp {
    let mut app = TestApp::spawn(opts).await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_html_arrives_without_its_dangers_and_a_reply_shows_only_its_new_text() {
    let app = started(Options::default()).await;
    let to = app.address.replace('@', "+health@");
    let marker = format!("html-{}", unique());
    let html = format!(
        "<html><head><style>p {{ color: red }}</style><script>alert('x')</script></head><body>\
<p onclick=\"steal()\">Programme {marker}</p>\
<ul><li>Opening</li><li>Budget</li></ul>\
<table><tr><td>09:00</td><td>Welcome</td></tr></table>\
<p><a href=\"https://example.org/agenda\">agenda</a> <a href=\"javascript:alert(1)\">click</a></p>\
<img src=\"https://tracker.example/pixel.gif\" width=\"1\" height=\"1\">\
</body></html>"
    );
    let raw = format!(
        "{}Content-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n",
        head(
            "Ana <ana@applicant.test>",
            &to,
            &format!("Programme {marker}"),
            ""
        )
    );
    send_raw("ana@applicant.test", &to, raw.as_bytes()).await;
    let got = app
        .secretariat
        .wait_for(&app.health, &marker, MAIL_WAIT, Duration::ZERO)
        .await;
    let c = content(&app.secretariat, &app.health, &got[0].event_id).await;
    let f = c["formatted_body"].as_str().unwrap();
    for gone in [
        "<script",
        "alert(",
        "<style",
        "color: red",
        "onclick",
        "javascript:",
        "tracker.example",
        "<img",
    ] {
        assert!(!f.contains(gone), "{gone} survived: {f}");
    }
    for kept in [
        "<ul>",
        "<li>Opening</li>",
        "<table>",
        "<td>09:00</td>",
        "href=\"https://example.org/agenda\"",
    ] {
        assert!(f.contains(kept), "{kept} lost: {f}");
    }

    // A reply quoting the first: only its new text shows, the quote folded.
    let first_id = c["org.convene.mail"]["message_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply_marker = format!("reply-{}", unique());
    let reply = format!(
        "{}In-Reply-To: <{first_id}>\r\nReferences: <{first_id}>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Thanks, {reply_marker} works for us.\r\n\r\nOn Mon, 11 May 2026, Working Groups wrote:\r\n> Programme {marker}\r\n> Opening\r\n> Budget\r\n",
        head(
            "Ana <ana@applicant.test>",
            &to,
            &format!("Re: Programme {marker}"),
            ""
        )
    );
    send_raw("ana@applicant.test", &to, reply.as_bytes()).await;
    let got = app
        .secretariat
        .wait_for(&app.health, &reply_marker, MAIL_WAIT, Duration::ZERO)
        .await;
    assert_eq!(
        got[0].thread_root.as_deref(),
        Some(got_root(&app, &marker).as_str())
    );
    let body = &got[0].body;
    assert!(body.contains("[quoted text hidden]"), "{body}");
    assert!(!body.contains("> Opening"), "{body}");
    let c = content(&app.secretariat, &app.health, &got[0].event_id).await;
    let f = c["formatted_body"].as_str().unwrap();
    assert!(f.contains("<details><summary>Quoted text</summary>"), "{f}");
}

fn got_root(app: &TestApp, marker: &str) -> String {
    app.secretariat
        .matching(&app.health, &format!("Programme {marker}"))
        .into_iter()
        .find(|s| s.thread_root.is_none())
        .expect("the first mail's post")
        .event_id
}

/// A mail with a PDF and an inline image: both reach the room as files whose bytes match.
async fn files_reach_the_room(encrypted: bool) {
    let app = started(Options {
        encrypted_health: encrypted,
        ..Options::default()
    })
    .await;
    let to = app.address.replace('@', "+health@");
    let marker = format!("files-{}", unique());
    let pdf = [b"%PDF-1.4\n".as_slice(), &binary(7, 30_000)].concat();
    let png = [b"\x89PNG\r\n\x1a\n".as_slice(), &binary(3, 5_000)].concat();
    let raw = format!(
        "{}Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n\
--outer\r\nContent-Type: multipart/related; boundary=\"rel\"\r\n\r\n\
--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See the logo {marker}: <img src=\"cid:logo@sender.test\" alt=\"logo\"></p>\r\n\
--rel\r\nContent-Type: image/png\r\nContent-ID: <logo@sender.test>\r\nContent-Disposition: inline; filename=\"logo.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--rel--\r\n\
--outer\r\nContent-Type: application/pdf; name=\"agenda.pdf\"\r\nContent-Disposition: attachment; filename=\"agenda.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--outer--\r\n",
        head(
            "Ana <ana@applicant.test>",
            &to,
            &format!("Agenda {marker}"),
            ""
        ),
        b64(&png),
        b64(&pdf)
    );
    send_raw("ana@applicant.test", &to, raw.as_bytes()).await;
    let root = app
        .secretariat
        .wait_for(&app.health, &marker, MAIL_WAIT, Duration::ZERO)
        .await[0]
        .clone();
    assert!(root.thread_root.is_none());
    let files = wait_in_thread(
        &app.secretariat,
        &app.health,
        &root.event_id,
        "m.file",
        1,
        MAIL_WAIT,
    )
    .await;
    let images = wait_in_thread(
        &app.secretariat,
        &app.health,
        &root.event_id,
        "m.image",
        1,
        MAIL_WAIT,
    )
    .await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(images.len(), 1, "{images:?}");
    let (c, bytes) = media(&app.secretariat, &app.health, &files[0].event_id).await;
    assert_eq!(c["body"], "agenda.pdf");
    assert_eq!(bytes, pdf, "the PDF's bytes");
    assert_eq!(
        c.get("file").is_some(),
        encrypted,
        "encrypted media in an encrypted room: {c}"
    );
    let (c, bytes) = media(&app.secretariat, &app.health, &images[0].event_id).await;
    assert_eq!(bytes, png, "the image's bytes");
    assert_eq!(c.get("file").is_some(), encrypted, "{c}");
    // The post itself: the image in place (unencrypted room) or named (encrypted room).
    let post = content(&app.secretariat, &app.health, &root.event_id).await;
    let f = post["formatted_body"].as_str().unwrap();
    if encrypted {
        assert!(f.contains("[image: logo]") && !f.contains("<img"), "{f}");
    } else {
        assert!(f.contains("<img src=\"mxc://"), "{f}");
        assert!(!f.contains("convene.invalid"), "placeholder left: {f}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_and_an_inline_image_reach_an_unencrypted_room_as_files() {
    files_reach_the_room(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_and_an_inline_image_reach_an_encrypted_room_as_encrypted_files() {
    files_reach_the_room(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1_mb_mail_arrives_cut_with_its_original_attached() {
    let app = started(Options {
        max_message_bytes: 5_000_000,
        ..Options::default()
    })
    .await;
    let to = app.address.replace('@', "+health@");
    let marker = format!("big-{}", unique());
    let line = "The working group discussed the regional skills partnership at length.\r\n";
    let body: String = line.repeat(1_000_000 / line.len() + 1);
    let raw = format!(
        "{}Content-Type: text/plain; charset=utf-8\r\n\r\n{marker}\r\n{body}",
        head(
            "Ana <ana@applicant.test>",
            &to,
            &format!("Minutes {marker}"),
            ""
        )
    );
    assert!(raw.len() > 1_000_000);
    send_raw("ana@applicant.test", &to, raw.as_bytes()).await;
    let root = app
        .secretariat
        .wait_for(&app.health, &marker, MAIL_WAIT, Duration::ZERO)
        .await[0]
        .clone();
    assert!(
        root.body.contains("truncated"),
        "{}",
        &root.body[root.body.len() - 200..]
    );
    assert!(root.body.len() < 64 * 1024);
    let files = wait_in_thread(
        &app.secretariat,
        &app.health,
        &root.event_id,
        "m.file",
        1,
        MAIL_WAIT,
    )
    .await;
    let (c, bytes) = media(&app.secretariat, &app.health, &files[0].event_id).await;
    assert!(c["body"].as_str().unwrap().ends_with(".eml"), "{c}");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains(&marker) && bytes.len() >= raw.len(),
        "the whole original: {} bytes",
        bytes.len()
    );
}
