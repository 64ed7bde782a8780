//! Helpers of the EoI integration tests: sending mail, reading the catch-all mailbox,
//! waiting for cards, commands and invites.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::{SETTLE, WAIT};
use crate::support::{self, Backend, Options, TestApp, send_raw, unique};

/// A mail with its Message-ID, sent through Postfix.
pub(crate) async fn mail(
    envelope: &str,
    from: &str,
    to: &str,
    subject: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> String {
    let id = format!("<{}@applicant.test>", unique());
    let mut raw = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {id}\r\nDate: {}\r\nMIME-Version: 1.0\r\n",
        chrono::Utc::now().to_rfc2822()
    );
    if !headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("Content-Type"))
    {
        raw.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    }
    for (k, v) in headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    raw.push_str(&body.replace('\n', "\r\n"));
    send_raw(envelope, to, raw.as_bytes()).await;
    id
}

pub(crate) fn eoi_body(name: &str, country: &str, matrix: Option<&str>) -> String {
    let matrix = matrix
        .map(|m| format!("Matrix id: {m}\n"))
        .unwrap_or_default();
    format!(
        "Dear Secretariat,\n\nName: {name}\nOrganisation: Regional Health Agency\n\
         Type of organisation: Public authority\nCountry: {country}\nWorking group: Health\n\
         Role: Core team member\n{matrix}Motivation: we run regional public-health programmes \
         and would like to share our experience with other regions in the working group.\n\n\
         Best regards,\n{name}\n"
    )
}

/// The raw mails to `to` in the catch-all mailbox (where mail to `*.test` lands).
pub(crate) async fn catchall(to: &str) -> Vec<String> {
    let cfg: convene::config::MailboxConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\nuser = \"{}\"\nsecret = \"{}\"\naddress = \"x@x.test\"\n",
        support::env("IMAP_PORT"),
        support::env("CATCHALL_USER"),
        support::env("CATCHALL_PASSWORD"),
    ))
    .unwrap();
    let mut session = convene::bridge::imap::connect(&cfg).await.unwrap();
    session.select("INBOX").await.unwrap();
    let uids = session.uid_search(format!("TO \"{to}\"")).await.unwrap();
    let mut out = Vec::new();
    if !uids.is_empty() {
        let set: Vec<String> = uids.iter().map(u32::to_string).collect();
        let mut stream = session.uid_fetch(set.join(","), "RFC822").await.unwrap();
        while let Some(item) = stream.next().await {
            if let Some(body) = item.unwrap().body() {
                out.push(String::from_utf8_lossy(body).into_owned());
            }
        }
    }
    session.logout().await.ok();
    out
}

/// Waits until at least `n` mails to `to` arrived, then lets `SETTLE` pass.
pub(crate) async fn wait_mails(to: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    while catchall(to).await.len() < n {
        assert!(
            Instant::now() < deadline,
            "fewer than {n} mails to {to} within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(SETTLE).await;
    catchall(to).await
}

pub(crate) async fn started(backend: Backend) -> TestApp {
    let mut app = TestApp::spawn(Options {
        backend,
        extra_config: "[applications]\ncall = \"2026\"\nack_period_hours = 24\n".into(),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    app
}

/// The card (not the bridged mail) of `email` whose title starts with `title`.
pub(crate) async fn card(app: &TestApp, email: &str, title: &str) -> Vec<support::Seen> {
    let deadline = Instant::now() + WAIT;
    loop {
        let cards: Vec<_> = app
            .secretariat
            .matching(&app.management, email)
            .into_iter()
            .filter(|s| s.body.starts_with(&format!("**{title} #")))
            .collect();
        if !cards.is_empty() {
            tokio::time::sleep(SETTLE).await;
            return app
                .secretariat
                .matching(&app.management, email)
                .into_iter()
                .filter(|s| s.body.starts_with(&format!("**{title} #")))
                .collect();
        }
        assert!(Instant::now() < deadline, "no card `{title}` for {email}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) async fn ask(app: &TestApp, command: &str, needle: &str) -> String {
    let asked = app.secretariat.say(&app.management, command).await;
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(s) = app
            .secretariat
            .matching(&app.management, needle)
            .into_iter()
            .find(|s| s.in_reply_to.as_deref() == Some(asked.as_str()))
        {
            return s.body;
        }
        assert!(
            Instant::now() < deadline,
            "no answer to {command:?} containing {needle:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) async fn invited(
    app: &TestApp,
    room: &matrix_sdk::ruma::OwnedRoomId,
    user: &str,
) -> bool {
    let token = app.secretariat.client.access_token().unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        let res: serde_json::Value = reqwest::Client::new()
            .get(format!(
                "{}/_matrix/client/v3/rooms/{room}/state/m.room.member/{user}",
                support::env("MATRIX_HOMESERVER")
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if res["membership"] == "invite" {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
