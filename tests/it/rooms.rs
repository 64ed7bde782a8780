//! Rooms: commands in encrypted rooms, backlog, quarantine, IMAPS, threads both ways.

use std::time::Duration;

use crate::support::{self, Options, TestApp, send_mail, unique};
use crate::{MAIL_WAIT, SETTLE};

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
