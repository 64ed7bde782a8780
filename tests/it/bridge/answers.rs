//! Rooms → mail and back: a conversation in one thread, the secretariat's answer with the
//! right headers and name, internal notes and members' messages kept in the room, delivery
//! status kept current (sent, failed, bounced with the DSN in the thread), and `!mail`.

use std::time::Duration;

use mail_parser::MessageParser;

use crate::support::{Backend, Options, Person, TestApp, send_mail, unique, wait_for_mail_to};
use crate::{MAIL_WAIT, SETTLE};

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

async fn message_id(app: &TestApp, event: &str) -> String {
    let c = super::helpers::content(&app.secretariat, &app.health, event).await;
    format!(
        "<{}>",
        c["org.convene.mail"]["message_id"].as_str().unwrap()
    )
}

fn header(raw: &[u8], name: &str) -> Option<String> {
    let msg = MessageParser::default().parse(raw)?;
    msg.header_raw(name).map(|v| v.trim().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_stays_in_one_thread_and_only_the_secretariat_answers_by_mail() {
    conversation(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_stays_in_one_thread_and_only_the_secretariat_answers_by_mail_postgres() {
    conversation(Backend::Postgres).await;
}

async fn conversation(backend: Backend) {
    let app = started_on(backend).await;
    let to = app.address.replace('@', "+health@");
    let ana = format!("ana-{}@applicant.test", unique());
    let marker = format!("conv-{}", unique());
    send_mail(
        &ana,
        &to,
        &format!("Budget {marker}"),
        "First question.",
        &[],
    )
    .await;
    let root = app
        .secretariat
        .wait_for(&app.health, "First question", MAIL_WAIT, Duration::ZERO)
        .await[0]
        .clone();
    let m1 = message_id(&app, &root.event_id).await;
    send_mail(
        &ana,
        &to,
        &format!("Re: Budget {marker}"),
        "Second mail.",
        &[("In-Reply-To", &m1)],
    )
    .await;
    let second = app
        .secretariat
        .wait_for(&app.health, "Second mail", MAIL_WAIT, Duration::ZERO)
        .await[0]
        .clone();
    let m2 = message_id(&app, &second.event_id).await;
    // The third keeps only References, as some clients do.
    let refs = format!("{m1} {m2}");
    send_mail(
        &ana,
        &to,
        &format!("Re: Budget {marker}"),
        "Third mail.",
        &[("References", &refs)],
    )
    .await;
    for text in ["Second mail", "Third mail"] {
        let got = app
            .secretariat
            .wait_for(&app.health, text, MAIL_WAIT, Duration::ZERO)
            .await;
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].thread_root.as_deref(),
            Some(root.event_id.as_str()),
            "{text}"
        );
    }

    // An internal note stays; a member's message stays and gets the notice.
    app.secretariat
        .say_in_thread(
            &app.health,
            &root.event_id,
            "// internal: check the budget line first",
        )
        .await;
    let member = Person::new("member").await;
    let room = app.secretariat.client.get_room(&app.health).unwrap();
    room.invite_user_by_id(&member.user).await.unwrap();
    member.client.join_room_by_id(&app.health).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    member
        .say_in_thread(&app.health, &root.event_id, "I think we can fund it")
        .await;
    let notice = app
        .secretariat
        .wait_for(
            &app.health,
            "only the secretariat",
            MAIL_WAIT,
            Duration::ZERO,
        )
        .await;
    assert_eq!(
        notice[0].thread_root.as_deref(),
        Some(root.event_id.as_str())
    );

    // The secretariat's answer: to Ana, threaded, with the name.
    let answer = app
        .secretariat
        .say_in_thread(
            &app.health,
            &root.event_id,
            "Yes, **the budget** is approved.",
        )
        .await;
    let sent = app
        .secretariat
        .wait_for(&app.health, "✅ Sent", MAIL_WAIT, Duration::ZERO)
        .await;
    assert!(sent[0].body.contains(&ana), "{}", sent[0].body);
    let mails = wait_for_mail_to(&ana, MAIL_WAIT).await;
    tokio::time::sleep(SETTLE).await;
    let mails = {
        let again = wait_for_mail_to(&ana, MAIL_WAIT).await;
        assert_eq!(again.len(), mails.len());
        again
    };
    assert_eq!(
        mails.len(),
        1,
        "only the answer was mailed: {}",
        mails.len()
    );
    let raw = &mails[0];
    let msg = MessageParser::default().parse(raw).unwrap();
    let from = msg.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some(app.address.as_str()));
    assert!(
        from.name()
            .unwrap_or_default()
            .ends_with("via Working Groups"),
        "{:?}",
        from.name()
    );
    assert_eq!(
        msg.reply_to().unwrap().first().unwrap().address(),
        Some(app.address.as_str())
    );
    assert_eq!(msg.subject(), Some(format!("Re: Budget {marker}").as_str()));
    let irt = header(raw, "In-Reply-To").unwrap();
    let references = header(raw, "References").unwrap();
    assert!(
        references.contains(&m1) && references.contains(&m2),
        "{references}"
    );
    // It answers the newest mail of the conversation (the third, whose id Postfix kept).
    assert!(!irt.contains(&m1), "{irt}");
    assert!(msg.body_text(0).unwrap().contains("**the budget**"));
    assert!(
        msg.body_html(0)
            .unwrap()
            .contains("<strong>the budget</strong>")
    );
    let text = msg.body_text(0).unwrap();
    assert!(
        !text.contains("internal") && !text.contains("fund it"),
        "{text}"
    );
    let _ = answer;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_bounces_shows_it_and_the_report_lands_in_the_thread() {
    bounces(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_bounces_shows_it_and_the_report_lands_in_the_thread_postgres() {
    bounces(Backend::Postgres).await;
}

async fn bounces(backend: Backend) {
    let app = started_on(backend).await;
    let to = app.address.replace('@', "+health@");
    let marker = format!("bounce-{}", unique());
    let bouncing = format!("gone-{}@bounce.test", unique());
    send_mail(&bouncing, &to, &format!("Hello {marker}"), "Any news?", &[]).await;
    let root = app
        .secretariat
        .wait_for(&app.health, &marker, MAIL_WAIT, Duration::ZERO)
        .await[0]
        .clone();
    app.secretariat
        .say_in_thread(&app.health, &root.event_id, "Not yet, sorry.")
        .await;
    app.secretariat
        .wait_for(&app.health, "✅ Sent", MAIL_WAIT, Duration::ZERO)
        .await;
    // Postfix bounces mail to the stack's bounce.test: its DSN comes back to our mailbox.
    let report = app
        .secretariat
        .wait_for(
            &app.health,
            "📭 Delivery report",
            Duration::from_secs(60),
            Duration::ZERO,
        )
        .await;
    assert_eq!(
        report[0].thread_root.as_deref(),
        Some(root.event_id.as_str()),
        "{report:?}"
    );
    assert!(report[0].body.contains(&bouncing), "{}", report[0].body);
    assert!(report[0].body.contains("5."), "{}", report[0].body);
    let status = app
        .secretariat
        .wait_for(&app.health, "❌ Bounced", MAIL_WAIT, Duration::ZERO)
        .await;
    assert!(status[0].body.contains(&bouncing), "{}", status[0].body);

    // Refused at RCPT: the status says failed, with the reason.
    let refused = format!("no-{}@refused.test", unique());
    let marker = format!("refused-{}", unique());
    send_mail(&refused, &to, &format!("Hi {marker}"), "Hello?", &[]).await;
    let root = app
        .secretariat
        .wait_for(&app.health, &marker, MAIL_WAIT, Duration::ZERO)
        .await[0]
        .clone();
    app.secretariat
        .say_in_thread(&app.health, &root.event_id, "Hello!")
        .await;
    let failed = app
        .secretariat
        .wait_for(&app.health, "⚠ Failed", MAIL_WAIT, Duration::ZERO)
        .await;
    assert!(failed[0].body.contains("5.1.1"), "{}", failed[0].body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bang_mail_starts_a_conversation_whose_reply_comes_back_into_its_thread() {
    let app = started().await;
    let bob = format!("bob-{}@applicant.test", unique());
    let marker = format!("out-{}", unique());
    let root = app
        .secretariat
        .say(
            &app.health,
            &format!("!mail {bob} Invitation {marker}\nDear Bob,\n\nwould you join us?"),
        )
        .await;
    let queued = app
        .secretariat
        .wait_for(&app.health, "Queued: mail to", MAIL_WAIT, Duration::ZERO)
        .await;
    assert_eq!(queued[0].thread_root.as_deref(), Some(root.as_str()));
    let mails = wait_for_mail_to(&bob, MAIL_WAIT).await;
    let msg = MessageParser::default().parse(&mails[0]).unwrap();
    assert_eq!(msg.subject(), Some(format!("Invitation {marker}").as_str()));
    assert!(msg.body_text(0).unwrap().contains("would you join us?"));
    let id = format!("<{}>", msg.message_id().unwrap());
    let reply = format!("yes-{}", unique());
    send_mail(
        &bob,
        &app.address,
        &format!("Re: Invitation {marker}"),
        &format!("Gladly, {reply}."),
        &[("In-Reply-To", &id), ("References", &id)],
    )
    .await;
    let got = app
        .secretariat
        .wait_for(&app.health, &reply, MAIL_WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].thread_root.as_deref(), Some(root.as_str()));
}
