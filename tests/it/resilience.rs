//! What holds when the world is not friendly, on the real stack: a recipient refused for good,
//! a changed UIDVALIDITY, a burst of mail while a fetch runs, a panicking handler, a crash
//! between queueing and sending an invite. (Servers stopped for a while: `tests/outage`.)

use std::time::{Duration, Instant};

use crate::support::{self, Options, TestApp, send_mail, unique};
use crate::{MAIL_WAIT, SETTLE};

async fn started(opts: Options) -> TestApp {
    let mut app = TestApp::spawn(opts).await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_recipient_fails_at_once_and_is_shown_in_the_thread_and_the_management_room() {
    let app = started(Options::default()).await;
    let marker = format!("refused-{}", unique());
    let sender = format!("someone-{}@refused.test", unique());
    send_mail(
        &sender,
        &app.address.replace('@', "+health@"),
        &format!("Question {marker}"),
        "Is there a meeting soon?",
        &[],
    )
    .await;
    let root = app
        .secretariat
        .wait_for(&app.health, &marker, MAIL_WAIT, Duration::ZERO)
        .await[0]
        .clone();
    app.secretariat
        .say_in_thread(&app.health, &root.event_id, "Yes, on 12 May.")
        .await;
    let here = app
        .secretariat
        .wait_for(&app.health, "Not delivered", MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(here.len(), 1, "{here:?}");
    assert_eq!(here[0].thread_root.as_deref(), Some(root.event_id.as_str()));
    assert!(here[0].body.contains("5.1.1"), "{}", here[0].body);
    let mgmt = app
        .secretariat
        .wait_for(&app.management, "Could not mail", MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(mgmt.len(), 1, "{mgmt:?}");
    assert!(mgmt[0].body.contains(&sender), "{}", mgmt[0].body);
    // Failed at once: one attempt, no retry scheduled.
    let log = app.log();
    assert_eq!(
        support::count_in(&log, "send failed permanently"),
        1,
        "{log}"
    );
    assert_eq!(support::count_in(&log, "SMTP send failed; will retry"), 0);
}

fn doveadm(args: &[&str]) -> String {
    let out = std::process::Command::new("doveadm")
        .arg("-c")
        .arg(support::env("DOVECOT_CONF"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "doveadm {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_uidvalidity_posts_no_old_mail_and_answers_nobody_twice() {
    let mut app = TestApp::spawn(Options::default()).await;
    // Mail already in the folder at the first start: history, never imported.
    let old = format!("old-{}", unique());
    send_mail(
        "Old <old@applicant.test>",
        &app.address,
        &format!("Before convene {old}"),
        "old news",
        &[],
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    app.env
        .push(("CONVENE__MAILBOX__IDLE_REFRESH_SECS".into(), "2".into()));
    app.start_ready().await;
    app.wait_bot_joined().await;
    // An application, acknowledged once.
    let ana = format!("ana-{}@applicant.test", unique());
    send_mail(
        &format!("Ana Ruiz <{ana}>"),
        &app.address,
        "Expression of interest",
        "Name: Ana Ruiz\nOrganisation: Regional Health Agency\nType of organisation: Public \
         authority\nCountry: Spain\nWorking group: Health\nRole: Core team member\nMotivation: \
         we run regional public-health programmes.\n",
        &[],
    )
    .await;
    assert_eq!(support::wait_for_mail_to(&ana, MAIL_WAIT).await.len(), 1);

    // The server changes the folder's UIDVALIDITY under the running daemon.
    let status = doveadm(&[
        "mailbox",
        "status",
        "-u",
        &app.mailbox_user,
        "uidvalidity",
        "INBOX",
    ]);
    let current: u64 = status
        .split("uidvalidity=")
        .nth(1)
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("doveadm said {status:?}"));
    let new = (current + 1000).to_string();
    doveadm(&[
        "mailbox",
        "update",
        "-u",
        &app.mailbox_user,
        "--uid-validity",
        &new,
        "INBOX",
    ]);
    let notice = app
        .secretariat
        .wait_for(
            &app.management,
            "changed its UIDVALIDITY",
            MAIL_WAIT,
            Duration::ZERO,
        )
        .await;
    assert!(notice[0].body.contains(&new), "{}", notice[0].body);

    // The next new mail arrives once; nothing old is posted; nobody is answered twice.
    let next = format!("next-{}", unique());
    send_mail(
        "Bo <bo@applicant.test>",
        &app.address.replace('@', "+digital@"),
        &format!("After the change {next}"),
        "new news",
        &[],
    )
    .await;
    let got = app
        .secretariat
        .wait_for(&app.digital, &next, MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(app.secretariat.matching(&app.management, &old).is_empty());
    assert_eq!(
        app.secretariat
            .matching(&app.management, "Expression of interest #")
            .len(),
        1,
        "the application was not carded again"
    );
    assert_eq!(support::wait_for_mail_to(&ana, MAIL_WAIT).await.len(), 1);
    assert!(
        notice[0].body.contains("already handled"),
        "{}",
        notice[0].body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_mail_sent_while_a_fetch_runs_is_in_the_room_within_seconds() {
    let app = started(Options::default()).await;
    let tag = unique();
    let to = app.address.replace('@', "+digital@");
    let sent = Instant::now();
    let sends = (0..40).map(|i| {
        let to = to.clone();
        let tag = tag.clone();
        async move {
            send_mail(
                "Burst <burst@applicant.test>",
                &to,
                &format!("burst {tag} #{i:02}"),
                "one of many",
                &[],
            )
            .await
        }
    });
    futures_util::future::join_all(sends).await;
    let deadline = sent + Duration::from_secs(20);
    loop {
        let n = app
            .secretariat
            .matching(&app.digital, &format!("burst {tag}"))
            .len();
        if n >= 40 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {n} of 40 mails in the room after 20 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(SETTLE).await;
    let got = app
        .secretariat
        .matching(&app.digital, &format!("burst {tag}"));
    let mut subjects: Vec<String> = got
        .iter()
        .map(|s| s.body.lines().next().unwrap_or_default().to_owned())
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(got.len(), 40, "each mail once");
    assert_eq!(subjects.len(), 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_matrix_handler_is_survived_and_the_next_command_answered() {
    let mut app = TestApp::spawn(Options::default()).await;
    app.env
        .push(("CONVENE_FAILPOINT".into(), "panic:matrix-handler".into()));
    app.start_ready().await;
    app.wait_bot_joined().await;
    app.secretariat.say(&app.digital, "!help first").await;
    app.wait_log("Matrix event handler panicked", MAIL_WAIT)
        .await;
    let asked = app.secretariat.say(&app.digital, "!nosuchthing").await;
    let got = app
        .secretariat
        .wait_for(&app.digital, "Unknown command", MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].in_reply_to.as_deref(), Some(asked.as_str()));
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Invite events for `user` in `room`, from the room's timeline.
async fn invites(app: &TestApp, room: &matrix_sdk::ruma::OwnedRoomId, user: &str) -> usize {
    let token = app.secretariat.client.access_token().unwrap();
    let filter = serde_json::json!({"types": ["m.room.member"]}).to_string();
    let res: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "{}/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=200&filter={}",
            support::env("MATRIX_HOMESERVER"),
            url_escape(&filter)
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    res["chunk"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["state_key"] == user && e["content"]["membership"] == "invite")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sigkill_between_queueing_and_sending_an_invite_gives_one_invite() {
    let mut app = TestApp::spawn(Options {
        extra_config: "[applications]\ncall = \"2026\"\n".into(),
        ..Options::default()
    })
    .await;
    // The crash comes right after the homeserver performed the invite, before it was noted.
    app.start(Some("after-invite-send"));
    let ready = Instant::now() + Duration::from_secs(60);
    while !app.log().contains("answering from now on") || !app.log().contains("IMAP connected") {
        assert!(Instant::now() < ready, "not ready:\n{}", app.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    app.wait_bot_joined().await;
    let mx = support::register_user(&format!("inv-{}", unique()), "pw-inv").await;
    let email = format!("iva-{}@applicant.test", unique());
    send_mail(
        &format!("Iva Novak <{email}>"),
        &app.address,
        "Expression of interest",
        &format!(
            "Name: Iva Novak\nOrganisation: City of Split\nType of organisation: Public \
             authority\nCountry: Croatia\nWorking group: Health\nRole: Core team member\n\
             Matrix id: {mx}\nMotivation: we coordinate urban health plans.\n"
        ),
        &[],
    )
    .await;
    let card = app
        .secretariat
        .wait_for(
            &app.management,
            "**Expression of interest #",
            MAIL_WAIT,
            Duration::ZERO,
        )
        .await
        .into_iter()
        .find(|s| s.body.contains(&email))
        .expect("the card");
    let id = card
        .body
        .split('#')
        .nth(1)
        .and_then(|s| s.split('*').next())
        .unwrap()
        .to_owned();
    app.secretariat
        .say(&app.management, &format!("!eoi accept {id}"))
        .await;
    assert!(app.wait_exit(MAIL_WAIT), "the failpoint stopped the daemon");
    app.start_ready().await;
    app.secretariat
        .wait_for(&app.management, "is now **accepted**", MAIL_WAIT, SETTLE)
        .await;
    tokio::time::sleep(SETTLE).await;
    // The invite was resent after the restart (its item was not marked sent): the membership
    // check, or the homeserver, makes it one invite.
    assert!(
        app.log().contains("key=eoi-invite-1-1"),
        "the invite was resent"
    );
    assert_eq!(invites(&app, &app.health, mx.as_str()).await, 1);
}
