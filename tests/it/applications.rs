//! Integration tests of expressions of interest on the real stack: intake (record, RFC 3834
//! acknowledgement read back from the catch-all mailbox, card), no reply to automatic mail,
//! corrections, and decisions by command and by reaction (decision mail and room invite).

pub(crate) mod helpers;
mod late;

use std::time::Duration;

use crate::support::{self, Backend, unique};
use helpers::{ask, card, catchall, eoi_body, invited, mail, started, wait_mails};

const WAIT: Duration = Duration::from_secs(40);
const SETTLE: Duration = Duration::from_secs(3);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eoi_is_recorded_acknowledged_and_carded_once_and_automatic_mail_gets_no_reply() {
    intake(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eoi_intake_on_postgres() {
    intake(Backend::Postgres).await;
}

async fn intake(backend: Backend) {
    let mut app = started(backend).await;
    let u = unique();
    let ana = format!("ana-{u}@applicant.test");
    let first = mail(
        &ana,
        &format!("Ana Ruiz <{ana}>"),
        &app.address,
        "Expression of interest",
        &[],
        &eoi_body("Ana Ruiz", "Spain", None),
    )
    .await;

    let cards = card(&app, &ana, "Expression of interest").await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    let list = ask(&app, "!eoi list", "application(s)").await;
    assert!(
        list.starts_with("1 application(s)") && list.contains(&ana),
        "{list}"
    );
    assert!(list.contains("**complete**"), "{list}");

    let acks = wait_mails(&ana, 1).await;
    assert_eq!(acks.len(), 1, "{acks:?}");
    assert!(
        acks[0].contains("Auto-Submitted: auto-replied"),
        "{}",
        acks[0]
    );
    assert!(
        acks[0].contains(&format!("In-Reply-To: {first}")),
        "{}",
        acks[0]
    );
    assert!(
        acks[0].contains("Subject: Your expression of interest"),
        "{}",
        acks[0]
    );

    // Automatic mail that reads like an application: never answered, never recorded.
    let ooo = format!("ooo-{u}@applicant.test");
    mail(
        &ooo,
        &ooo,
        &app.address,
        "Expression of interest",
        &[("Auto-Submitted", "auto-replied")],
        &eoi_body("Otto", "Austria", None),
    )
    .await;
    let list_user = format!("list-{u}@applicant.test");
    mail(
        &list_user,
        &list_user,
        &app.address,
        "Expression of interest",
        &[("List-Id", "<wg.lists.applicant.test>")],
        &eoi_body("Lis", "Latvia", None),
    )
    .await;
    let daemon = format!("mailer-daemon-{u}@applicant.test");
    let report = "--b1\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; applicant.test\r\n\r\nFinal-Recipient: rfc822; nobody@applicant.test\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n";
    mail(
        "",
        &format!("Mail Delivery System <{daemon}>"),
        &app.address,
        "Undelivered Mail Returned to Sender",
        &[(
            "Content-Type",
            "multipart/report; report-type=delivery-status; boundary=\"b1\"",
        )],
        report,
    )
    .await;
    for who in [&ooo, &list_user, &daemon] {
        app.secretariat
            .wait_for(&app.management, who.as_str(), WAIT, Duration::ZERO)
            .await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    for who in [&ooo, &list_user, &daemon] {
        assert!(catchall(who).await.is_empty(), "{who} got a reply");
    }
    let list = ask(&app, "!eoi list", "application(s)").await;
    assert!(list.starts_with("1 application(s)"), "{list}");

    // A correction from the same address updates the record: still one, country changed.
    let correction = format!(
        "Sorry, a correction:\n\nCountry: Portugal\n\nOn Monday Ana wrote:\n> {}",
        eoi_body("Ana Ruiz", "Spain", None).replace('\n', "\n> ")
    );
    mail(
        &ana,
        &format!("Ana Ruiz <{ana}>"),
        &app.address,
        "Re: Expression of interest",
        &[("In-Reply-To", &first), ("References", &first)],
        &correction,
    )
    .await;
    let updates = card(&app, &ana, "Expression of interest updated").await;
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert!(
        updates[0].body.contains("Country: PT"),
        "{}",
        updates[0].body
    );
    let list = ask(&app, "!eoi list", "application(s)").await;
    assert!(list.starts_with("1 application(s)"), "{list}");
    let id = list
        .split('#')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap()
        .to_string();
    let show = ask(&app, &format!("!eoi show {id}"), "mail(s) received").await;
    assert!(
        show.contains("Country: PT") && show.contains("2 mail(s) received"),
        "{show}"
    );
    // The application changed: a second acknowledgement, in reply to the correction.
    assert_eq!(wait_mails(&ana, 2).await.len(), 2);
    assert!(app.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_by_command_and_by_reaction_mails_the_decision_and_invites() {
    let mut app = started(Backend::Sqlite).await;
    let u = unique();
    let mx1 = support::register_user(&format!("app1-{u}"), "pw-app1").await;
    let mx2 = support::register_user(&format!("app2-{u}"), "pw-app2").await;
    let bea = format!("bea-{u}@applicant.test");
    let cai = format!("cai-{u}@applicant.test");
    mail(
        &bea,
        &bea,
        &app.address,
        "Expression of interest",
        &[],
        &eoi_body("Bea Costa", "Italy", Some(mx1.as_str())),
    )
    .await;
    mail(
        &cai,
        &cai,
        &app.address,
        "Expression of interest",
        &[],
        &eoi_body("Cai Berg", "Sweden", Some(mx2.as_str())),
    )
    .await;
    let bea_card = card(&app, &bea, "Expression of interest").await;
    let cai_card = card(&app, &cai, "Expression of interest").await;
    let bea_id = bea_card[0]
        .body
        .split('#')
        .nth(1)
        .and_then(|s| s.split('*').next())
        .unwrap()
        .to_string();

    let answer = ask(&app, &format!("!eoi accept {bea_id}"), "accepted").await;
    assert!(
        answer.contains("in `health` as member") && answer.contains("invited"),
        "{answer}"
    );
    assert!(
        invited(&app, &app.health, mx1.as_str()).await,
        "{mx1} not invited"
    );
    let mails = wait_mails(&bea, 2).await;
    let decision: Vec<_> = mails
        .iter()
        .filter(|m| m.contains("has been accepted"))
        .collect();
    assert_eq!(decision.len(), 1, "{mails:?}");
    assert!(
        !decision[0].contains("Auto-Submitted"),
        "a person's decision is not an auto-reply"
    );
    assert!(decision[0].contains("matrix.to"), "{}", decision[0]);

    // A question by mail; the answer comes back into the card's thread.
    let asked = ask(
        &app,
        &format!("!eoi ask {bea_id} Which region exactly?"),
        "Question mailed",
    )
    .await;
    assert!(asked.contains("card's thread"), "{asked}");
    let mails = wait_mails(&bea, 3).await;
    let question = mails
        .iter()
        .find(|m| m.contains("Which region exactly?"))
        .expect("question mailed");
    let qid = question
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .expect("Message-ID")
        .trim()
        .to_string();
    let marker = format!("answer-{}", unique());
    mail(
        &bea,
        &bea,
        &app.address,
        "Re: A question",
        &[("In-Reply-To", &qid)],
        &format!("Lombardy. {marker}\n"),
    )
    .await;
    let got = app
        .secretariat
        .wait_for(&app.management, &marker, WAIT, SETTLE)
        .await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        got[0].thread_root.as_deref(),
        Some(bea_card[0].event_id.as_str())
    );

    // ✅ on Cai's card.
    let room = app.secretariat.client.get_room(&app.management).unwrap();
    room.send_raw(
        "m.reaction",
        serde_json::json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": cai_card[0].event_id, "key": "✅"}}),
    )
    .await
    .unwrap();
    assert!(
        invited(&app, &app.health, mx2.as_str()).await,
        "{mx2} not invited after ✅"
    );
    let mails = wait_mails(&cai, 2).await;
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.contains("has been accepted"))
            .count(),
        1,
        "{mails:?}"
    );
    let thread = app
        .secretariat
        .wait_for(&app.management, "is now **accepted**", WAIT, Duration::ZERO)
        .await;
    assert!(thread.iter().any(|s| s.body.contains(&cai)), "{thread:?}");
    let list = ask(&app, "!eoi list health accepted", "application(s)").await;
    assert!(list.starts_with("2 application(s)"), "{list}");
    assert!(app.stop().success());
}
