#![recursion_limit = "256"]
//! Outages on the real stack: Synapse, Postfix and Dovecot stopped (or restarted) under a
//! running daemon, for longer than the old fixed retry limits allowed. They take servers
//! away from everyone, so they run in their own test binary (after the others, which cargo
//! runs one binary at a time) and one at a time here.

#[path = "../it/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{Options, TestApp, send_mail, stack_sh, unique};

const WAIT: Duration = Duration::from_secs(60);
const SETTLE: Duration = Duration::from_secs(3);

/// One outage at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Brings the server back even when the test fails half-way.
struct Down(&'static str);

impl Down {
    fn stop(server: &'static str) -> Down {
        stack_sh(&["stop", server]);
        Down(server)
    }
    fn start(self) {
        stack_sh(&["start", self.0]);
        std::mem::forget(self);
    }
}

impl Drop for Down {
    fn drop(&mut self) {
        stack_sh(&["start", self.0]);
    }
}

async fn started() -> TestApp {
    let mut app = TestApp::spawn(Options {
        // Short waits between retries, so the outage spans many more tries than the old
        // limits (8 for SMTP, 12 for Matrix).
        extra_config: "[outbox]\nretry_min = \"1s\"\nretry_max = \"1s\"\n".into(),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    app
}

async fn wait_log_count(app: &TestApp, needle: &str, n: usize, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while support::count_in(&app.log(), needle) < n {
        assert!(
            Instant::now() < deadline,
            "the log said {needle:?} fewer than {n} times:\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_down_for_many_tries_then_the_queued_reply_is_delivered_once() {
    let _one = SERIAL.lock().await;
    let app = started().await;
    let marker = format!("smtp-out-{}", unique());
    let applicant = format!("pat-{}@applicant.test", unique());
    send_mail(
        &applicant,
        &app.address.replace('@', "+health@"),
        &format!("Question {marker}"),
        "Where is the agenda?",
        &[],
    )
    .await;
    let root = app
        .secretariat
        .wait_for(&app.health, &marker, WAIT, Duration::ZERO)
        .await[0]
        .clone();
    let down = Down::stop("postfix");
    let answer = format!("answer-{}", unique());
    app.secretariat
        .say_in_thread(
            &app.health,
            &root.event_id,
            &format!("Attached soon. {answer}"),
        )
        .await;
    // More failed tries than the old limit of 8, then Postfix comes back.
    wait_log_count(&app, "send failed; will retry", 10, WAIT).await;
    let back = Instant::now();
    down.start();
    let mails = support::wait_for_mail_to(&applicant, WAIT).await;
    let took = back.elapsed();
    tokio::time::sleep(SETTLE).await;
    let mails = support::wait_for_mail_to(&applicant, WAIT)
        .await
        .len()
        .max(mails.len());
    assert_eq!(mails, 1, "the reply arrives once");
    assert!(
        took < Duration::from_secs(15),
        "delivered {took:?} after Postfix returned"
    );
    assert!(!app.log().contains("giving up"), "nothing was given up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synapse_down_for_many_tries_then_the_bridged_mail_arrives_once() {
    let _one = SERIAL.lock().await;
    let app = started().await;
    let down = Down::stop("synapse");
    let marker = format!("while-synapse-down-{}", unique());
    send_mail(
        "Quinn <quinn@applicant.test>",
        &app.address.replace('@', "+digital@"),
        &format!("Minutes {marker}"),
        "Please find the minutes.",
        &[],
    )
    .await;
    // More failed tries than the old limit of 12.
    wait_log_count(
        &app,
        "send failed; will retry",
        13,
        Duration::from_secs(120),
    )
    .await;
    let back = Instant::now();
    down.start();
    let got = app
        .secretariat
        .wait_for(&app.digital, &marker, WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        back.elapsed() < Duration::from_secs(30),
        "posted {:?} after Synapse returned",
        back.elapsed()
    );
    assert!(!app.log().contains("giving up"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dovecot_restarted_then_the_next_mail_arrives_once() {
    let _one = SERIAL.lock().await;
    let app = started().await;
    let down = Down::stop("dovecot");
    // Dovecot leaves running sessions alive when its master stops; a real restart (or a
    // server move) drops them: so does this test.
    let _ = std::process::Command::new("pkill")
        .args(["-f", "convene-stack/imap"])
        .status();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let back = Instant::now();
    down.start();
    let marker = format!("after-dovecot-{}", unique());
    send_mail(
        "Rita <rita@applicant.test>",
        &app.address.replace('@', "+health@"),
        &format!("Hello {marker}"),
        "hello again",
        &[],
    )
    .await;
    let got = app
        .secretariat
        .wait_for(&app.health, &marker, WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    let took = back.elapsed();
    assert!(took < Duration::from_secs(15), "{took:?}");
    let connected = support::count_in(&app.log(), "IMAP connected");
    assert!(connected >= 2, "reconnected ({connected} connections)");
}

/// Ends the Dovecot session process serving `pid`'s IMAP connection (by its id, found from
/// the connection's ports): Dovecot keeps running sessions alive when its master stops.
fn end_imap_session_of(pid: u32) {
    let port = support::env("IMAP_PORT");
    let ss = |filter: &str| {
        let out = std::process::Command::new("ss")
            .args(["-tnpH", "state", "established", filter])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ours = format!("pid={pid},");
    let client_ports: Vec<String> = ss(&format!("( dport = :{port} )"))
        .lines()
        .filter(|l| l.contains(&ours))
        .filter_map(|l| {
            l.split_whitespace()
                .nth(2)?
                .rsplit(':')
                .next()
                .map(str::to_owned)
        })
        .collect();
    assert!(!client_ports.is_empty(), "convene has no IMAP connection");
    for line in ss(&format!("( sport = :{port} )")).lines() {
        let peer = line
            .split_whitespace()
            .nth(3)
            .and_then(|p| p.rsplit(':').next());
        if !peer.is_some_and(|p| client_ports.iter().any(|c| c == p)) {
            continue;
        }
        if let Some(server) = line.split("pid=").nth(1).and_then(|r| r.split(',').next()) {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", server])
                .status();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_dovecot_is_down_and_200_after() {
    let _one = SERIAL.lock().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut app = TestApp::spawn(Options {
        extra_config: format!("[http]\nlisten = \"127.0.0.1:{port}\"\nimap_grace_secs = 2\n"),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    let url = format!("http://127.0.0.1:{port}/readyz");
    let status = |url: String| async move {
        let r = reqwest::get(url).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    let until = |want: u16| {
        let url = url.clone();
        async move {
            let deadline = Instant::now() + WAIT;
            loop {
                let (s, body) = status(url.clone()).await;
                if s == want {
                    return body;
                }
                assert!(Instant::now() < deadline, "readyz stayed {s}: {body}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    until(200).await;
    let down = Down::stop("dovecot");
    end_imap_session_of(app.pid().unwrap());
    let body = until(503).await;
    assert!(body.contains(r#""failing":["imap"]"#), "{body}");
    // The metrics still answer, and count the reconnect attempts.
    let (s, metrics) = status(format!("http://127.0.0.1:{port}/metrics")).await;
    assert_eq!(s, 200);
    assert!(
        metrics.contains(r#"convene_component_up{component="imap"} 0"#),
        "{metrics}"
    );
    let reconnects: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("convene_imap_reconnects_total "))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(reconnects >= 1.0, "{metrics}");
    down.start();
    let body = until(200).await;
    assert!(body.contains(r#""ready":true"#), "{body}");
    assert!(support::count_in(&app.log(), "IMAP connected") >= 2);
}
