//! Mail on the stack: sending through Postfix, reading mailboxes over IMAP.

use std::time::{Duration, Instant};

use super::{env, unique};

/// Sends a mail through Postfix (plain SMTP on loopback).
pub async fn send_mail(
    from: &str,
    to: &str,
    subject: &str,
    body: &str,
    extra_headers: &[(&str, &str)],
) {
    let mut raw = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@sender.test>\r\nDate: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n",
        unique(),
        chrono::Utc::now().to_rfc2822()
    );
    for (k, v) in extra_headers {
        raw.push_str(&format!("{k}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    let envelope_from = from
        .rsplit_once('<')
        .map_or(from, |(_, a)| a.trim_end_matches('>'));
    send_raw(envelope_from, to, raw.as_bytes()).await;
}

pub async fn send_raw(envelope_from: &str, to: &str, raw: &[u8]) {
    use lettre::AsyncTransport;
    let transport =
        lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(env("SMTP_HOST"))
            .port(env("SMTP_PORT").parse().unwrap())
            .build();
    let from = if envelope_from.is_empty() {
        None
    } else {
        Some(envelope_from.parse().unwrap())
    };
    let envelope = lettre::address::Envelope::new(from, vec![to.parse().unwrap()]).unwrap();
    transport.send_raw(&envelope, raw).await.unwrap();
}

/// Every message in an INBOX of the stack's Dovecot, as raw bytes, oldest first.
pub async fn inbox(user: &str, password: &str) -> Vec<Vec<u8>> {
    use futures_util::StreamExt;
    let cfg: convene::config::MailboxConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\nuser = \"{user}\"\nsecret = \"{password}\"\naddress = \"{user}@{}\"\n",
        env("IMAP_PORT"),
        env("MAIL_DOMAIN")
    ))
    .unwrap();
    let mut session = convene::bridge::imap::connect(&cfg).await.unwrap();
    session.select("INBOX").await.unwrap();
    let mut out = Vec::new();
    {
        let mut stream = session.uid_fetch("1:*", "(UID BODY.PEEK[])").await.unwrap();
        while let Some(f) = stream.next().await {
            if let Some(body) = f.unwrap().body() {
                out.push(body.to_vec());
            }
        }
    }
    let _ = session.logout().await;
    out
}

/// Waits for mail in the catch-all mailbox (every address outside convene.test) to `to`.
pub async fn wait_for_mail_to(to: &str, timeout: Duration) -> Vec<Vec<u8>> {
    let deadline = Instant::now() + timeout;
    loop {
        let found: Vec<Vec<u8>> = inbox(&env("CATCHALL_USER"), &env("CATCHALL_PASSWORD"))
            .await
            .into_iter()
            .filter(|m| {
                let head = String::from_utf8_lossy(&m[..m.len().min(4000)]).to_ascii_lowercase();
                head.contains(&format!("to: {}", to.to_ascii_lowercase()))
                    || head.contains(&format!("<{}>", to.to_ascii_lowercase()))
            })
            .collect();
        if !found.is_empty() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no mail to {to} within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
