//! EoIs matched to the calendar's calls on the real stack: with a closed call for health and
//! an open one for digital, a Health EoI is recorded as `late` and gets the "call closed"
//! reply (naming the next health call); a Digital EoI is acknowledged as usual and recorded
//! under the digital call; `!eoi export` uploads the CSV as a file (into the unencrypted
//! management room, which `applications.export_unencrypted` allows here; the encrypted
//! upload is tested in `safety`).

use super::helpers::{ask, card, eoi_body, mail};
use super::{SETTLE, WAIT};
use crate::support::{self, Backend, Options, TestApp, unique};

const CALENDAR: &str = r#"
timezone = "Europe/Brussels"

[[call]]
id = "health-2020"
title = "Call for members of the health group 2020"
groups = ["health"]
kind = "members"
opens = "2020-01-06"
closes = "2020-02-28"

[[call]]
id = "health-2099"
title = "Call for members of the health group 2099"
groups = ["health"]
kind = "members"
opens = "2099-01-05"
closes = "2099-02"

[[call]]
id = "digital-open"
title = "Call for members of the digital group"
groups = ["digital"]
kind = "members"
opens = "2020-01-06"
closes = "2099-12-31"
"#;

/// The app with [`CALENDAR`] as its calendar file (in the returned folder).
async fn started(backend: Backend) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calendar.toml");
    std::fs::write(&path, CALENDAR).unwrap();
    let mut app = TestApp::spawn(Options {
        backend,
        extra_config: format!(
            "[applications]\ncall = \"fallback\"\nack_period_hours = 24\nexport_unencrypted = true\n\n[calendar]\nfile = \"{}\"\n",
            path.display()
        ),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    (app, dir)
}

fn text(raw: &[u8]) -> String {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    format!(
        "{}\n{}",
        msg.subject().unwrap_or_default(),
        msg.body_text(0).unwrap_or_default()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_eoi_gets_call_closed_reply_and_open_call_eoi_is_recorded_under_its_call() {
    calls(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eoi_calls_on_postgres() {
    calls(Backend::Postgres).await;
}

async fn calls(backend: Backend) {
    let (app, _calendar) = started(backend).await;
    let u = unique();

    let hana = format!("hana-{u}@applicant.test");
    mail(
        &hana,
        &format!("Hana Novak <{hana}>"),
        &app.address,
        "Expression of interest",
        &[],
        &eoi_body("Hana Novak", "Slovenia", None),
    )
    .await;
    let replies = support::wait_for_mail_to(&hana, WAIT).await;
    tokio::time::sleep(SETTLE).await;
    assert_eq!(replies.len(), 1, "one reply only");
    let raw = String::from_utf8_lossy(&replies[0]).into_owned();
    assert!(raw.contains("Auto-Submitted: auto-replied"), "{raw}");
    let reply = text(&replies[0]);
    assert!(reply.contains("the call is closed"), "{reply}");
    assert!(
        reply.contains("Call for members of the health group 2020"),
        "{reply}"
    );
    assert!(reply.contains("opens on 2099-01-05"), "{reply}");

    let dina = format!("dina-{u}@applicant.test");
    mail(
        &dina,
        &format!("Dina Berg <{dina}>"),
        &app.address,
        "Expression of interest",
        &[],
        &eoi_body("Dina Berg", "Sweden", None)
            .replace("Working group: Health", "Working group: Digital"),
    )
    .await;
    let acks = support::wait_for_mail_to(&dina, WAIT).await;
    let ack = text(&acks[0]);
    assert!(ack.contains("Your expression of interest"), "{ack}");
    assert!(!ack.contains("closed"), "{ack}");
    let cards = card(&app, &dina, "Expression of interest").await;
    assert!(
        cards[0].body.contains("call `digital-open`"),
        "{}",
        cards[0].body
    );

    let late = ask(&app, "!eoi list late", "application(s)").await;
    assert!(
        late.starts_with("1 application(s)") && late.contains(&hana) && late.contains("**late**"),
        "{late}"
    );
    let all = ask(&app, "!eoi list", "application(s)").await;
    assert!(
        all.starts_with("2 application(s)") && all.contains(&dina),
        "{all}"
    );

    ask(&app, "!eoi export", "Exported 2 applications.").await;
    let files = app
        .secretariat
        .wait_for(
            &app.management,
            "eoi-export-",
            WAIT,
            std::time::Duration::ZERO,
        )
        .await;
    assert!(files.iter().any(|s| s.msgtype == "m.file"), "{files:?}");
}
