#![recursion_limit = "256"]
//! Integration tests on the real stack (Synapse, Dovecot, Postfix, PostgreSQL), started by
//! `scripts/stack.sh up` (the README's test command does it). Each test has its own users,
//! rooms, mailbox and database, and runs the real binary.

mod applications;
mod calendar;
mod support;

use std::time::Duration;

use support::{Backend, Options, TestApp, send_mail, unique};

const MAIL_WAIT: Duration = Duration::from_secs(30);
/// How long to keep watching for a second copy after the first arrived.
const SETTLE: Duration = Duration::from_secs(3);

async fn bridges_once(backend: Backend) {
    let mut app = TestApp::spawn(Options {
        backend,
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;

    // Plus-address → Health room.
    let marker = format!("plus-{}", unique());
    let to = app.address.replace('@', "+health@");
    send_mail(
        "Ana <ana@applicant.test>",
        &to,
        &format!("Hello {marker}"),
        "Dear secretariat,\nhello.\n",
        &[],
    )
    .await;
    let got = app
        .secretariat
        .wait_for(&app.health, &marker, MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "exactly one event: {got:?}");
    assert_eq!(got[0].sender, app.bot.as_str());
    assert!(
        got[0].body.contains("ana@applicant.test"),
        "{}",
        got[0].body
    );

    // Subject tag by alias → Health; unknown → management room; nothing in the wrong room.
    let tagged = format!("tag-{}", unique());
    send_mail(
        "bo@applicant.test",
        &app.address,
        &format!("[Gesundheit] {tagged}"),
        "x",
        &[],
    )
    .await;
    let other = format!("none-{}", unique());
    send_mail(
        "cy@applicant.test",
        &app.address,
        &format!("Question {other}"),
        "x",
        &[],
    )
    .await;
    assert_eq!(
        app.secretariat
            .wait_for(&app.health, &tagged, MAIL_WAIT, Duration::ZERO)
            .await
            .len(),
        1
    );
    assert_eq!(
        app.secretariat
            .wait_for(&app.management, &other, MAIL_WAIT, SETTLE)
            .await
            .len(),
        1
    );
    assert!(app.secretariat.matching(&app.digital, &marker).is_empty());
    assert!(
        app.secretariat
            .matching(&app.management, &tagged)
            .is_empty()
    );
    let status = app.stop();
    assert!(status.success(), "graceful stop exits 0, got {status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_reaches_the_right_room_once_sqlite() {
    bridges_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_reaches_the_right_room_once_postgres() {
    bridges_once(Backend::Postgres).await;
}

/// A crash at each point between fetch and post, then a restart: still exactly one event.
async fn crash_then_restart(backend: Backend, failpoint: &str) {
    let mut app = TestApp::spawn(Options {
        backend,
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    app.stop();

    app.start(Some(failpoint));
    let marker = format!("crash-{failpoint}-{}", unique());
    let to = app.address.replace('@', "+digital@");
    send_mail(
        "dee@applicant.test",
        &to,
        &format!("Crash {marker}"),
        "body",
        &[],
    )
    .await;
    assert!(
        app.wait_exit(Duration::from_secs(60)),
        "failpoint {failpoint} should abort the process"
    );
    assert!(app.log().contains(&format!("failpoint {failpoint} hit")));

    app.start_ready().await;
    let got = app
        .secretariat
        .wait_for(&app.digital, &marker, MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "after a crash at {failpoint}: {got:?}");

    // And a plain restart re-posts nothing.
    app.stop();
    app.start_ready().await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(app.secretariat.matching(&app.digital, &marker).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_store_yields_one_event() {
    crash_then_restart(Backend::Sqlite, "after-store").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_route_yields_one_event() {
    crash_then_restart(Backend::Sqlite, "after-route").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_matrix_send_yields_one_event() {
    crash_then_restart(Backend::Sqlite, "after-matrix-send").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_after_matrix_send_yields_one_event_postgres() {
    crash_then_restart(Backend::Postgres, "after-matrix-send").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_reuses_the_device_and_catches_up_on_mail_sent_while_down() {
    let mut app = TestApp::spawn(Options::default()).await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    let session = app.dir.path().join("state/matrix/session.json");
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&session).unwrap()).unwrap();
    app.stop();

    let marker = format!("down-{}", unique());
    send_mail(
        "eve@applicant.test",
        &app.address.replace('@', "+health@"),
        &format!("While down {marker}"),
        "x",
        &[],
    )
    .await;
    app.start_ready().await;
    assert_eq!(
        app.secretariat
            .wait_for(&app.health, &marker, MAIL_WAIT, SETTLE)
            .await
            .len(),
        1
    );

    let second: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&session).unwrap()).unwrap();
    assert_eq!(
        first["device_id"], second["device_id"],
        "same device after restart"
    );
    let devices = bot_devices(second["access_token"].as_str().unwrap()).await;
    // The registration made one device; convene's login one more; restarts none.
    app.stop();
    app.start_ready().await;
    assert_eq!(
        bot_devices(second["access_token"].as_str().unwrap()).await,
        devices
    );
    assert!(devices.contains(&second["device_id"].as_str().unwrap().to_owned()));
    assert_eq!(devices.len(), 2, "{devices:?}");
}

async fn bot_devices(token: &str) -> Vec<String> {
    let devices: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/_matrix/client/v3/devices",
            support::env("MATRIX_HOMESERVER")
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    devices["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["device_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_is_answered_in_an_encrypted_room_and_backlog_is_ignored() {
    let mut app = TestApp::spawn(Options {
        encrypted_health: true,
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    // Give the bot's device keys a moment to be visible to the secretariat's client.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let asked = app.secretariat.say(&app.health, "!help").await;
    let got = app
        .secretariat
        .wait_for(&app.health, "convene", MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].msgtype, "m.notice");
    assert_eq!(got[0].in_reply_to.as_deref(), Some(asked.as_str()));
    assert!(got[0].body.contains("!help"), "{}", got[0].body);

    // A command sent while the bot is down is backlog: not answered after the restart.
    app.stop();
    app.secretariat.say(&app.digital, "!help while-down").await;
    app.start_ready().await;
    let marker = format!("after-{}", unique());
    app.secretariat.say(&app.digital, "!nosuchcommand").await;
    app.secretariat
        .wait_for(&app.digital, "Unknown command", MAIL_WAIT, SETTLE)
        .await;
    assert!(
        app.secretariat
            .matching(&app.digital, "**convene**")
            .is_empty()
            && app
                .secretariat
                .matching(&app.digital, "convene — working-groups")
                .is_empty(),
        "backlog !help was answered: {marker}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_and_automatic_mail_go_to_the_management_room() {
    let mut app = TestApp::spawn(Options {
        max_message_bytes: 4000,
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    let big = format!("big-{}", unique());
    send_mail(
        "fay@applicant.test",
        &app.address.replace('@', "+health@"),
        &format!("Big {big}"),
        &"lorem ipsum ".repeat(1000),
        &[],
    )
    .await;
    let got = app
        .secretariat
        .wait_for(&app.management, "quarantined", MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].body.contains("oversized"), "{}", got[0].body);
    assert!(app.secretariat.matching(&app.health, &big).is_empty());

    let auto = format!("ooo-{}", unique());
    send_mail(
        "gil@applicant.test",
        &app.address.replace('@', "+health@"),
        &format!("Out of office {auto}"),
        "I am away.",
        &[("Auto-Submitted", "auto-replied")],
    )
    .await;
    let got = app
        .secretariat
        .wait_for(&app.management, &auto, MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1);
    assert!(got[0].body.contains("not answered"), "{}", got[0].body);
    assert!(app.secretariat.matching(&app.health, &auto).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imaps_with_a_private_ca_and_polling_without_idle() {
    let mut app = TestApp::spawn(Options::default()).await;
    app.env = vec![
        ("CONVENE__MAILBOX__TLS".into(), "tls".into()),
        ("CONVENE__MAILBOX__HOST".into(), "localhost".into()),
        ("CONVENE__MAILBOX__PORT".into(), support::env("IMAPS_PORT")),
        (
            "CONVENE__MAILBOX__CA_FILE".into(),
            support::env("TLS_CA_FILE"),
        ),
        ("CONVENE__MAILBOX__IDLE".into(), "false".into()),
        ("CONVENE__MAILBOX__POLL_SECS".into(), "1".into()),
    ];
    app.start_ready().await;
    assert!(app.log().contains("idle=false"), "polling mode expected");
    app.wait_bot_joined().await;
    let marker = format!("imaps-{}", unique());
    let to = app.address.replace('@', "+health@");
    send_mail(
        "hal@applicant.test",
        &to,
        &format!("Over TLS {marker}"),
        "x",
        &[],
    )
    .await;
    let got = app
        .secretariat
        .wait_for(&app.health, &marker, MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_reply_goes_out_as_mail_and_the_answer_comes_back_into_the_thread() {
    let mut app = TestApp::spawn(Options::default()).await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    let marker = format!("thread-{}", unique());
    let applicant = format!("ivy-{}@applicant.test", unique());
    let to = app.address.replace('@', "+health@");
    send_mail(
        &applicant,
        &to,
        &format!("Question {marker}"),
        "When is the next meeting?",
        &[],
    )
    .await;
    let root = app
        .secretariat
        .wait_for(&app.health, &marker, MAIL_WAIT, Duration::ZERO)
        .await[0]
        .clone();

    // The secretariat answers in the thread: the applicant gets a proper reply.
    let room = app.secretariat.client.get_room(&app.health).unwrap();
    let answer = format!("answer-{}", unique());
    room.send_raw("m.room.message", serde_json::json!({
        "msgtype": "m.text",
        "body": format!("On 12 May, online. {answer}"),
        "m.relates_to": {"rel_type": "m.thread", "event_id": root.event_id, "is_falling_back": true,
                         "m.in_reply_to": {"event_id": root.event_id}},
    })).await.unwrap();
    let mails = support::wait_for_mail_to(&applicant, MAIL_WAIT).await;
    tokio::time::sleep(SETTLE).await;
    let mails = support::wait_for_mail_to(&applicant, MAIL_WAIT)
        .await
        .len()
        .max(mails.len());
    assert_eq!(mails, 1, "one reply mail");
    let raw = support::wait_for_mail_to(&applicant, MAIL_WAIT)
        .await
        .remove(0);
    let reply = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(
        reply.subject(),
        Some(format!("Re: Question {marker}").as_str())
    );
    assert!(reply.body_text(0).unwrap().contains(&answer));
    let in_reply_to = reply.in_reply_to().as_text().unwrap().to_owned();
    assert!(in_reply_to.ends_with("@sender.test"), "{in_reply_to}");
    assert!(
        reply.header("Auto-Submitted").is_none(),
        "a person's answer is not automatic"
    );

    // The applicant answers that mail: it lands in the same thread.
    let our_id = reply.message_id().unwrap().to_owned();
    let back = format!("back-{}", unique());
    send_mail(
        &applicant,
        &app.address,
        &format!("Re: Question {marker}"),
        &format!("Thanks! {back}"),
        &[
            ("In-Reply-To", &format!("<{our_id}>")),
            ("References", &format!("<{in_reply_to}> <{our_id}>")),
        ],
    )
    .await;
    let got = app
        .secretariat
        .wait_for(&app.health, &back, MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0].thread_root.as_deref(),
        Some(root.event_id.as_str()),
        "posted in the thread"
    );
}

#[test]
fn check_config_names_the_offending_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let bad = convene::config::EXAMPLE.replace("port = 993", "port = \"imaps\"");
    std::fs::write(&path, bad).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .args(["--config", path.to_str().unwrap(), "check-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mailbox.port"), "{err}");

    std::fs::write(&path, convene::config::EXAMPLE).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .args(["--config", path.to_str().unwrap(), "check-config"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn print_config_is_the_example_and_cli_runs_commands() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .arg("print-config")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        convene::config::EXAMPLE
    );

    let dir = tempfile::tempdir().unwrap();
    let config = convene::config::EXAMPLE.replace(
        "state_dir = \"/var/lib/convene\"",
        &format!("state_dir = \"{}\"", dir.path().display()),
    );
    let path = dir.path().join("c.toml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .args([
            "--config",
            path.to_str().unwrap(),
            "command",
            "!help",
            "--group",
            "health",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("`!help [command]`"));
}
