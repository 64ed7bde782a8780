//! Operations on the real stack: `/metrics` and `/readyz`, the audit trail, backup and
//! restore, privacy export and erasure. (`/readyz` during a Dovecot outage is in
//! `tests/outage`.)

mod ha;
mod helpers;
mod setup;

use std::time::Duration;

use crate::support::{Backend, send_mail, unique};
use helpers::{ask, cli, get, scrape, send_eoi, started, val, wait_card};

const WAIT: Duration = Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_the_traffic_and_readyz_says_ready() {
    let (app, base) = started(Backend::Sqlite, "").await;
    helpers::wait_status(&base, "/readyz", 200, WAIT).await;
    let (status, live) = get(&format!("{base}/healthz")).await;
    assert_eq!(status, 200, "{live}");
    let before = scrape(&base).await;
    assert_eq!(val(&before, "convene_leader"), 1.0);
    assert!(
        before
            .keys()
            .any(|k| k.starts_with("convene_build_info{version=")),
        "{before:?}"
    );
    assert_eq!(
        val(&before, r#"convene_mails_ingested_total{kind="eoi"}"#),
        0.0
    );

    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    send_eoi(&app, &ana, "Ana Ruiz").await;
    let marker = format!("corr-{u}");
    send_mail(
        &format!("pat-{u}@applicant.test"),
        &app.address.replace('@', "+health@"),
        &format!("Question {marker}"),
        "When is the next meeting?",
        &[],
    )
    .await;
    wait_card(&app, &ana).await;
    app.secretariat
        .wait_for(&app.health, &marker, WAIT, Duration::ZERO)
        .await;
    // The acknowledgement goes out by mail; wait until the runner counted it.
    let deadline = std::time::Instant::now() + WAIT;
    let after = loop {
        let m = scrape(&base).await;
        if val(
            &m,
            r#"convene_outbox_sends_total{transport="mail",outcome="sent"}"#,
        ) >= 1.0
        {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail counted: {m:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert_eq!(
        val(&after, r#"convene_mails_ingested_total{kind="eoi"}"#),
        1.0
    );
    assert_eq!(
        val(
            &after,
            r#"convene_mails_ingested_total{kind="correspondence"}"#
        ),
        1.0
    );
    // Two bridged mails and a card, at least.
    assert!(
        val(
            &after,
            r#"convene_outbox_sends_total{transport="matrix",outcome="sent"}"#
        ) >= 3.0,
        "{after:?}"
    );
    assert!(
        val(
            &after,
            r#"convene_send_duration_seconds_count{transport="matrix"}"#
        ) >= 3.0,
        "{after:?}"
    );
    assert_eq!(
        val(&after, r#"convene_eois{status="complete"}"#),
        1.0,
        "{after:?}"
    );
    assert!(after.contains_key(r#"convene_outbox_pending{transport="matrix"}"#));
    assert_eq!(
        val(&after, r#"convene_component_up{component="imap"}"#),
        1.0
    );
    let (status, ready) = get(&format!("{base}/readyz")).await;
    assert_eq!(status, 200, "{ready}");
    assert!(ready.contains(r#""leader":true"#), "{ready}");
    // No applicant address at info level: the daemon logs at debug for convene here, so
    // look at the info-and-above lines only.
    let log = app.log();
    assert!(
        log.contains(" INFO "),
        "the log's level format changed:\n{log}"
    );
    let loud: Vec<&str> = log
        .lines()
        .filter(|l| {
            [" INFO ", " WARN ", " ERROR "]
                .iter()
                .any(|lvl| l.contains(lvl))
        })
        .filter(|l| l.contains(&ana) || l.contains(&format!("pat-{u}")))
        .collect();
    assert!(loud.is_empty(), "applicant addresses at info: {loud:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_secretariat_action_leaves_an_audit_record() {
    let (app, _) = started(Backend::Sqlite, "").await;
    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    send_eoi(&app, &ana, "Ana Ruiz").await;
    wait_card(&app, &ana).await;
    let sec = app.secretariat.user.to_string();
    for (command, answer) in [
        ("!eoi review 1", "under_review"),
        ("!eoi ask 1 Which region do you work in?", "Question mailed"),
        ("!eoi accept 1 health", "accepted"),
        (
            "!meeting add id=audit-m group=health start=2031-05-12T10:00 title=\"Audit test\"",
            "Added",
        ),
        ("!eoi export", "Exported"),
    ] {
        let got = ask(&app, command).await;
        assert!(got.contains(answer), "{command}: {got}");
    }
    let trail = ask(&app, "!audit 10").await;
    for action in [
        "eoi.under_review",
        "eoi.ask",
        "eoi.accepted",
        "calendar.meeting.add",
        "eoi.export",
    ] {
        assert!(trail.contains(action), "{action} missing from:\n{trail}");
    }
    // (The Markdown escaping keeps `@` from mentioning anyone.)
    assert!(trail.contains(&sec[1..]), "{trail}");
    // Ids, not the person: the trail holds no applicant address or question text.
    assert!(
        !trail.contains(&ana) && !trail.contains("Which region"),
        "{trail}"
    );
    // Not in a group room.
    let elsewhere = app.secretariat.say(&app.health, "!audit").await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(s) = app
            .secretariat
            .matching(&app.health, "management room only")
            .into_iter()
            .find(|s| s.in_reply_to.as_deref() == Some(elsewhere.as_str()))
        {
            assert!(!s.body.contains("eoi."), "{}", s.body);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no refusal in the group room"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The command line shows the same trail, and a CLI action is recorded as `cli:…`.
    let (ok, out, err) = cli(&app, &["eoi", "export"]);
    assert!(ok, "{err}");
    assert!(out.contains(&ana), "the export itself holds the record");
    let (ok, out, err) = cli(&app, &["audit", "--since", "2020-01-01"]);
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert!(
        lines[5].contains("cli:") && lines[5].contains("eoi.export"),
        "{out}"
    );
    let (ok, out, _) = cli(&app, &["audit", "--since", "2999-01-01"]);
    assert!(ok && out.contains("no audit entries"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_of_a_running_daemon_restores_its_database_and_session() {
    let (mut app, _) = started(Backend::Sqlite, "").await;
    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    send_eoi(&app, &ana, "Ana Ruiz").await;
    wait_card(&app, &ana).await;

    let dest = app.dir.path().join("backup-1");
    let (ok, out, err) = cli(&app, &["backup", dest.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    for f in ["convene.db", "backup.json", "matrix/session.json"] {
        assert!(dest.join(f).exists(), "{f} not in the backup");
    }
    let (ok, _, err) = cli(&app, &["restore", dest.to_str().unwrap(), "--yes"]);
    assert!(
        !ok && err.contains("running"),
        "restore refused while running: {err}"
    );

    // Mail after the backup: the restore rolls the database back to before it …
    let bob = format!("bob-{u}@applicant.test");
    send_eoi(&app, &bob, "Bob Berg").await;
    wait_card(&app, &bob).await;
    app.stop();
    let (ok, out, err) = cli(&app, &["restore", dest.to_str().unwrap(), "--yes"]);
    assert!(ok, "{out}{err}");
    let (ok, list, err) = cli(&app, &["command", "!eoi list"]);
    assert!(ok, "{err}");
    assert!(list.contains(&ana) && !list.contains(&bob), "{list}");
    let (_, trail, _) = cli(&app, &["audit"]);
    assert!(trail.contains("· restore ·"), "{trail}");

    // … and the daemon starts on it with the same Matrix session, and fetches Bob's mail
    // again (its cursor is from before it): nothing is lost.
    app.start_ready().await;
    assert_eq!(
        crate::support::count_in(&app.log(), "Matrix session restored"),
        1,
        "the restored session is used, not a new login"
    );
    assert!(
        !app.log().contains("logged in to Matrix; session saved") || {
            // The first start logged in; only the second start must have restored.
            crate::support::count_in(&app.log(), "logged in to Matrix; session saved") == 1
        }
    );
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (_, list, _) = cli(&app, &["command", "!eoi list"]);
        if list.contains(&bob) {
            assert!(list.contains(&ana), "{list}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "Bob's mail not fetched again: {list}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let answer = ask(&app, "!eoi list").await;
    assert!(answer.contains("2 application(s)"), "{answer}");
}

/// The unit's hardening, as `systemd-analyze security` rates it (≤ 1.0 of 10).
#[test]
fn the_systemd_unit_is_hardened_to_an_exposure_of_at_most_one() {
    let unit = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/convene.service");
    let out = match std::process::Command::new("systemd-analyze")
        .args(["security", "--offline=true", unit])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            println!("skipped: systemd-analyze is not available ({e})");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let level: f64 = text
        .lines()
        .find_map(|l| {
            l.split("Overall exposure level for convene.service:")
                .nth(1)
        })
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no exposure level in:\n{text}{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    assert!(level <= 1.0, "exposure {level} > 1.0:\n{text}");
}

/// The event as the secretariat's client gets it from the homeserver.
async fn event_json(app: &crate::support::TestApp, room: &str, event: &str) -> serde_json::Value {
    let token = app.secretariat.client.access_token().unwrap();
    let url = format!(
        "{}/_matrix/client/v3/rooms/{room}/event/{event}",
        crate::support::env("MATRIX_HOMESERVER")
    );
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until `event` in `room` is redacted (its content emptied).
async fn wait_redacted(app: &crate::support::TestApp, room: &str, event: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let ev = event_json(app, room, event).await;
        if ev["unsigned"]["redacted_because"].is_object() {
            assert!(
                ev["content"].as_object().is_some_and(|c| c.is_empty()),
                "{ev}"
            );
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{event} not redacted: {ev}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Rows of the tables that hold personal data whose text or bytes contain `needle`.
async fn pg_rows_with(app: &crate::support::TestApp, needle: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    let mut n = 0;
    for sql in [
        "SELECT COUNT(*) FROM eoi WHERE position($1 in lower(email || record)) > 0",
        "SELECT COUNT(*) FROM inbound_mail WHERE position(convert_to($1, 'UTF8') in coalesce(raw, ''::bytea)) > 0",
        "SELECT COUNT(*) FROM outbox WHERE position($1 in lower(op || lane || coalesce(result, ''))) > 0 \
         OR position(convert_to($1, 'UTF8') in coalesce(data, ''::bytea)) > 0",
        "SELECT COUNT(*) FROM eoi_history WHERE position($1 in lower(extracted)) > 0",
    ] {
        let (c,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(needle.to_lowercase())
            .fetch_one(&mut conn)
            .await
            .unwrap();
        n += c;
    }
    n
}

/// Joins the first room the secretariat is invited to (the bot's direct message).
async fn wait_invited(app: &crate::support::TestApp) -> matrix_sdk::ruma::OwnedRoomId {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(room) = app.secretariat.client.invited_rooms().into_iter().next() {
            let id = room.room_id().to_owned();
            app.secretariat.client.join_room_by_id(&id).await.unwrap();
            return id;
        }
        assert!(std::time::Instant::now() < deadline, "no direct message");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Waits until nothing is pending in the outbox (the redactions were sent).
async fn wait_outbox_drained(app: &crate::support::TestApp) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let (ok, out, err) = cli(app, &["outbox", "list"]);
        assert!(ok, "{err}");
        if out.contains("everything was sent") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "outbox not drained: {out}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The files of the app that hold state: the state directory and the database with its WAL.
fn state_files_with(app: &crate::support::TestApp, needle: &str) -> Vec<String> {
    let mut hits = helpers::files_containing(&app.dir.path().join("state"), needle);
    for f in ["convene.db", "convene.db-wal", "convene.db-shm"] {
        let p = app.dir.path().join(f);
        if let Ok(bytes) = std::fs::read(&p)
            && bytes
                .to_ascii_lowercase()
                .windows(needle.len())
                .any(|w| w == needle.to_lowercase().as_bytes())
        {
            hits.push(p.display().to_string());
        }
    }
    hits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_holds_the_record_and_erase_leaves_no_byte_of_the_address() {
    export_and_erase(Backend::Sqlite).await;
}

/// On PostgreSQL the database's files are the server's: the state directory is scanned, and
/// the erasure's SQL (and its VACUUM FULL) runs on the other backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_and_erase_on_postgres() {
    export_and_erase(Backend::Postgres).await;
}

async fn export_and_erase(backend: Backend) {
    let (app, _) = started(backend, "").await;
    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    let other = format!("olga-{u}@applicant.test");
    send_eoi(&app, &ana, "Ana Ruiz").await;
    send_eoi(&app, &other, "Olga Berg").await;
    let card = wait_card(&app, &ana).await;
    wait_card(&app, &other).await;
    let marker = format!("question-{u}");
    send_mail(
        &format!("Ana Ruiz <{ana}>"),
        &app.address.replace('@', "+health@"),
        &format!("Question {marker}"),
        "When is the next meeting?",
        &[],
    )
    .await;
    let bridged = app
        .secretariat
        .wait_for(&app.health, &marker, WAIT, Duration::ZERO)
        .await[0]
        .clone();
    // A command answer that lists her address.
    let list = ask(&app, "!eoi list").await;
    assert!(list.contains(&ana), "{list}");
    if backend == Backend::Sqlite {
        assert!(
            !state_files_with(&app, &ana).is_empty(),
            "the address is held before"
        );
    } else {
        assert!(
            pg_rows_with(&app, &ana).await > 0,
            "the address is held before"
        );
    }

    // Access: the export holds her record, her mails and the events about her.
    let (ok, out, err) = cli(&app, &["privacy", "export", &ana.to_uppercase()]);
    assert!(ok, "{err}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let apps = json["applications"].as_array().unwrap();
    assert_eq!(apps.len(), 1, "{json:#}");
    assert_eq!(apps[0]["email"], ana.as_str());
    assert_eq!(apps[0]["record"]["name"], "Ana Ruiz", "{json:#}");
    assert_eq!(json["mails"].as_array().unwrap().len(), 2, "{json:#}");
    let events: Vec<&str> = json["room_events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["event_id"].as_str())
        .collect();
    for ev in [&card.event_id, &bridged.event_id] {
        assert!(events.contains(&ev.as_str()), "{ev} not in {events:?}");
    }
    assert!(!out.contains(&other), "nothing about someone else");
    // The same from the management room, by direct message.
    let answer = ask(&app, &format!("!privacy export {ana}")).await;
    assert!(answer.contains("direct message"), "{answer}");
    let dm = wait_invited(&app).await;
    let got = app
        .secretariat
        .wait_for(&dm, "Privacy export", WAIT, Duration::ZERO)
        .await;
    assert!(
        got[0].body.contains(&ana) && got[0].body.contains("Ana Ruiz"),
        "{}",
        got[0].body
    );

    // Erasure from the management room: asked to confirm, then done.
    let answer = ask(&app, &format!("!privacy erase {ana}")).await;
    assert!(
        answer.contains("confirm") && answer.contains("1 application"),
        "{answer}"
    );
    let answer = ask(&app, &format!("!privacy erase {ana} confirm")).await;
    assert!(answer.starts_with("Erased: 1 application"), "{answer}");
    assert!(!answer.contains(&ana), "{answer}");
    wait_redacted(&app, app.management.as_str(), &card.event_id).await;
    wait_redacted(&app, app.health.as_str(), &bridged.event_id).await;
    wait_outbox_drained(&app).await;
    if backend == Backend::Postgres {
        assert_eq!(
            pg_rows_with(&app, &ana).await,
            0,
            "rows still hold the address"
        );
    }
    let left = state_files_with(&app, &ana);
    assert!(left.is_empty(), "the address is still in {left:?}");
    // The other applicant is untouched.
    let list = ask(&app, "!eoi list").await;
    assert!(
        list.contains(&other) && list.starts_with("1 application"),
        "{list}"
    );
    let (_, trail, _) = cli(&app, &["audit"]);
    assert!(
        trail.contains("privacy.erase") && trail.contains("eoi #1"),
        "{trail}"
    );
    assert!(!trail.contains(&ana), "{trail}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retention_purge_erases_expired_records_and_redacts_their_cards() {
    let (app, _) = started(
        Backend::Sqlite,
        "[privacy]\nretention = { declined = \"1s\" }\npurge_every = \"1s\"\n",
    )
    .await;
    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    let bea = format!("bea-{u}@applicant.test");
    send_eoi(&app, &ana, "Ana Ruiz").await;
    let card = wait_card(&app, &ana).await;
    send_eoi(&app, &bea, "Bea Lind").await;
    wait_card(&app, &bea).await;
    // Complete records are kept; the declined one expires a second later.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let answer = ask(&app, "!eoi decline 1").await;
    assert!(answer.contains("declined"), "{answer}");
    wait_redacted(&app, app.management.as_str(), &card.event_id).await;
    wait_outbox_drained(&app).await;
    let left = state_files_with(&app, &ana);
    assert!(left.is_empty(), "the address is still in {left:?}");
    let (_, list, _) = cli(&app, &["command", "!eoi list"]);
    assert!(list.contains(&bea) && !list.contains(&ana), "{list}");
    let (_, trail, _) = cli(&app, &["audit"]);
    assert!(
        trail.contains("retention · privacy.purge · eoi #1"),
        "{trail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimal_cards_show_name_group_and_status_only() {
    let (app, _) = started(Backend::Sqlite, "[privacy]\nminimal_cards = true\n").await;
    let ana = format!("ana-{}@applicant.test", unique());
    send_eoi(&app, &ana, "Ana Ruiz").await;
    let deadline = std::time::Instant::now() + WAIT;
    let card = loop {
        if let Some(c) = app
            .secretariat
            .matching(&app.management, "Expression of interest #")
            .into_iter()
            .find(|s| s.body.contains("Ana Ruiz"))
        {
            break c;
        }
        assert!(std::time::Instant::now() < deadline, "no card");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        card.body.contains("health") && card.body.contains("complete"),
        "{}",
        card.body
    );
    for hidden in [ana.as_str(), "Regional Health Agency", "Spain"] {
        assert!(
            !card.body.contains(hidden),
            "{hidden} on the card: {}",
            card.body
        );
    }
    let full = ask(&app, "!eoi show 1").await;
    assert!(
        full.contains(&ana) && full.contains("Regional Health Agency"),
        "{full}"
    );
}
