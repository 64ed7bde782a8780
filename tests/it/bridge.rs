//! The bridge: mail routed to the right room exactly once, across restarts and crashes.

mod answers;
mod helpers;
mod rich;

use std::time::Duration;

use crate::support::{self, Backend, Options, TestApp, send_mail, unique};
use crate::{MAIL_WAIT, SETTLE};

async fn bridges_once(backend: Backend) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut app = TestApp::spawn(Options {
        backend,
        extra_config: format!("[http]\nlisten = \"127.0.0.1:{port}\"\n"),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;

    // Health: every component up once IMAP and the Matrix sync run.
    let health = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health["live"], true, "{health}");
    assert_eq!(health["components"]["imap"], true, "{health}");
    assert_eq!(health["components"]["matrix"], true, "{health}");

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
