#![recursion_limit = "256"]
//! Outages on the real stack: Synapse and Postfix stopped for a minute, Dovecot restarted,
//! the PostgreSQL connections dropped under a running daemon — all traffic delivered
//! afterwards, nothing twice, and back within 5 s of the server's return (measured from the
//! outbox's `done_at` and the daemon's log, not from the test client's view). They take
//! servers away from everyone, so they run in their own test binary (after the others, which
//! cargo runs one binary at a time) and one at a time here.

#[path = "../it/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::{Backend, Options, TestApp, send_mail, stack_sh, unique};

const WAIT: Duration = Duration::from_secs(60);
const SETTLE: Duration = Duration::from_secs(3);
/// How long Synapse and Postfix stay down.
const OUTAGE: Duration = Duration::from_secs(60);
/// Back within this long of the server's return.
const BACK_WITHIN_MS: i64 = 5_000;

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

/// A daemon with the default retry policy (2 s doubling): after a minute its next retry is
/// a minute away, so coming back within 5 s is the runner's probe of the server at work.
async fn started() -> TestApp {
    started_on(Backend::Sqlite).await
}

async fn started_on(backend: Backend) -> TestApp {
    let mut app = TestApp::spawn(Options {
        backend,
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    app
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// When the latest item of `transport` whose key starts with `prefix` was sent (Unix ms).
async fn sent_at(app: &TestApp, transport: &str, prefix: &str) -> Option<i64> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    let row: Option<(Option<i64>,)> = sqlx::query_as(
        "SELECT MAX(done_at) FROM outbox WHERE transport = $1 AND state = 'sent' AND key LIKE $2",
    )
    .bind(transport)
    .bind(format!("{prefix}%"))
    .fetch_optional(&mut conn)
    .await
    .unwrap();
    conn.close().await.ok();
    row.and_then(|r| r.0)
}

/// The instants (Unix ms) of the daemon's log lines that contain `needle`.
fn logged_at(app: &TestApp, needle: &str) -> Vec<i64> {
    app.log()
        .lines()
        .filter(|l| l.contains(needle))
        .filter_map(|l| l.split_whitespace().next())
        .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
        .collect()
}

/// Waits for the item to be sent; returns how long after `back` it was.
async fn sent_after(app: &TestApp, transport: &str, prefix: &str, back: i64) -> i64 {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(at) = sent_at(app, transport, prefix).await
            && at >= back - 60_000
        {
            return at - back;
        }
        assert!(
            Instant::now() < deadline,
            "no {transport} item {prefix}* sent within {WAIT:?}:\n{}",
            app.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

/// Mails a question from a new applicant to the Health room and returns the applicant and
/// the event id of the bridged post, for the secretariat to answer in its thread.
async fn a_question(app: &TestApp, tag: &str) -> (String, String) {
    let marker = format!("{tag}-{}", unique());
    let applicant = format!("{tag}-{}@applicant.test", unique());
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
        .event_id
        .clone();
    (applicant, root)
}

/// The number of mails to `applicant`, counted again after a pause so a second copy shows.
async fn mails_to(applicant: &str) -> usize {
    let first = support::wait_for_mail_to(applicant, WAIT).await.len();
    tokio::time::sleep(SETTLE).await;
    support::wait_for_mail_to(applicant, WAIT)
        .await
        .len()
        .max(first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_down_for_a_minute_then_the_queued_reply_is_delivered_once_within_5_s() {
    let _one = SERIAL.lock().await;
    let app = started().await;
    let (applicant, root) = a_question(&app, "smtp-out").await;
    let down = Down::stop("postfix");
    let stopped = Instant::now();
    app.secretariat
        .say_in_thread(&app.health, &root, "Attached soon.")
        .await;
    wait_log_count(&app, "send failed; will retry", 3, WAIT).await;
    tokio::time::sleep(OUTAGE.saturating_sub(stopped.elapsed())).await;
    down.start();
    let back = now_ms();
    let took = sent_after(&app, "mail", "", back).await;
    eprintln!("postfix outage: the reply was sent {took} ms after Postfix returned");
    assert_eq!(mails_to(&applicant).await, 1, "the reply arrives once");
    assert!(
        took <= BACK_WITHIN_MS,
        "sent {took} ms after Postfix returned"
    );
    assert!(!app.log().contains("giving up"), "nothing was given up");
}

/// The retry policy shortened through configuration (1 s doubling to 2 s): Postfix stays down
/// for more tries than the five the old outbox allowed before it gave up, and the reply still
/// goes out once when Postfix is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postfix_down_for_more_tries_than_the_old_limit_then_the_reply_is_delivered_once() {
    let _one = SERIAL.lock().await;
    let mut app = TestApp::spawn(Options {
        extra_config: "[outbox]\nretry_min = \"1s\"\nretry_max = \"2s\"\n".into(),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    let (applicant, root) = a_question(&app, "smtp-tries").await;
    let down = Down::stop("postfix");
    app.secretariat
        .say_in_thread(&app.health, &root, "In the thread, soon.")
        .await;
    // Five tries was the old limit; the eighth failure is well past it.
    wait_log_count(&app, "send failed; will retry", 8, WAIT).await;
    assert!(!app.log().contains("giving up"), "nothing was given up");
    down.start();
    assert_eq!(mails_to(&applicant).await, 1, "the reply arrives once");
    assert!(!app.log().contains("giving up"), "nothing was given up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synapse_down_for_a_minute_then_the_bridged_mail_arrives_once_within_5_s() {
    let _one = SERIAL.lock().await;
    let app = started().await;
    let down = Down::stop("synapse");
    let stopped = Instant::now();
    let marker = format!("while-synapse-down-{}", unique());
    send_mail(
        "Quinn <quinn@applicant.test>",
        &app.address.replace('@', "+digital@"),
        &format!("Minutes {marker}"),
        "Please find the minutes.",
        &[],
    )
    .await;
    wait_log_count(&app, "send failed; will retry", 3, WAIT).await;
    tokio::time::sleep(OUTAGE.saturating_sub(stopped.elapsed())).await;
    down.start();
    let back = now_ms();
    let took = sent_after(&app, "matrix", "mail-", back).await;
    // The sync is back too: a command asked now is answered.
    let asked = app.secretariat.say(&app.digital, "!help").await;
    let answered = sent_after(&app, "matrix", &format!("cmd-{asked}"), back).await;
    eprintln!(
        "synapse outage: mail posted {took} ms, command answered {answered} ms after Synapse returned"
    );
    let got = app
        .secretariat
        .wait_for(&app.digital, &marker, WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        took <= BACK_WITHIN_MS,
        "posted {took} ms after Synapse returned"
    );
    assert!(
        answered <= BACK_WITHIN_MS,
        "command answered {answered} ms after Synapse returned"
    );
    assert!(!app.log().contains("giving up"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dovecot_restarted_then_imap_is_back_within_5_s_and_the_next_mail_arrives_once() {
    let _one = SERIAL.lock().await;
    let app = started().await;
    let down = Down::stop("dovecot");
    // Dovecot leaves running sessions alive when its master stops; a real restart (or a
    // server move) drops them: so does this test.
    let _ = std::process::Command::new("pkill")
        .args(["-f", "convene-stack/imap"])
        .status();
    tokio::time::sleep(Duration::from_secs(3)).await;
    down.start();
    let back = now_ms();
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
    let reconnected = logged_at(&app, "IMAP connected")
        .into_iter()
        .find(|&t| t >= back)
        .map(|t| t - back);
    eprintln!("dovecot restart: IMAP connected again {reconnected:?} ms after Dovecot returned");
    let reconnected = reconnected.expect("IMAP connected again");
    assert!(
        reconnected <= BACK_WITHIN_MS,
        "IMAP back {reconnected} ms after Dovecot returned"
    );
}

/// Drops every connection the daemon has to its PostgreSQL database, as a server restart or
/// a failover does.
async fn drop_pg_connections(db_url: &str) -> u64 {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = db_url.rsplit('/').next().unwrap().to_owned();
    let mut admin = sqlx::AnyConnection::connect(&support::env("POSTGRES_ADMIN_URL"))
        .await
        .unwrap();
    let rows: Vec<(bool,)> = sqlx::query_as(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind(name)
    .fetch_all(&mut admin)
    .await
    .unwrap();
    admin.close().await.ok();
    rows.len() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_dropped_then_mail_and_commands_go_on_once_within_5_s() {
    let _one = SERIAL.lock().await;
    let app = started_on(Backend::Postgres).await;
    let dropped = drop_pg_connections(&app.db_url).await;
    assert!(dropped > 0, "the daemon had connections to drop");
    let back = now_ms();
    let marker = format!("after-pg-drop-{}", unique());
    send_mail(
        "Sam <sam@applicant.test>",
        &app.address.replace('@', "+digital@"),
        &format!("Agenda {marker}"),
        "the agenda",
        &[],
    )
    .await;
    let asked = app.secretariat.say(&app.digital, "!help").await;
    let got = app
        .secretariat
        .wait_for(&app.digital, &marker, WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    let posted = sent_after(&app, "matrix", "mail-", back).await;
    let answered = sent_after(&app, "matrix", &format!("cmd-{asked}"), back).await;
    eprintln!(
        "postgres drop ({dropped} connections): mail posted {posted} ms, command answered \
         {answered} ms after the drop"
    );
    let replies: Vec<_> = app
        .secretariat
        .matching(&app.digital, "")
        .into_iter()
        .filter(|s| s.in_reply_to.as_deref() == Some(asked.as_str()))
        .collect();
    assert_eq!(replies.len(), 1, "{replies:?}");
    // Mail latency (IDLE's 0.5 s) plus reconnecting: within 5 s of the drop.
    assert!(
        posted <= BACK_WITHIN_MS,
        "posted {posted} ms after the drop"
    );
    assert!(
        answered <= BACK_WITHIN_MS,
        "answered {answered} ms after the drop"
    );
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
