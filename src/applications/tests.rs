//! Intake against a temporary SQLite database: one record per applicant, corrections merged
//! with their history kept, acknowledgements throttled unless the application changed, and
//! attachments over the cap recorded without content.

use crate::config::{Config, EXAMPLE};

use super::{Applications, intake, store};

async fn ctx_with(dir: &std::path::Path, tweak: impl FnOnce(&mut Config)) -> Applications {
    let text = EXAMPLE.replace(
        "state_dir = \"/var/lib/convene\"",
        &format!("state_dir = \"{}\"", dir.display()),
    ) + "\n";
    let mut config = Config::from_toml(&text, std::iter::empty()).unwrap();
    config.applications.max_attachment_bytes = 10;
    tweak(&mut config);
    let db = crate::storage::Db::connect(&config.database_url().unwrap(), 1)
        .await
        .unwrap();
    let outbox = crate::outbox::Outbox::new(
        db.clone(),
        config.smtp.from.clone(),
        &config.matrix.management_room,
    )
    .await
    .unwrap();
    Applications::new(db, outbox, &config)
}

async fn ctx(dir: &std::path::Path) -> Applications {
    ctx_with(dir, |_| {}).await
}

/// Records an EoI in its own transaction, as the pipeline does in the mail's.
async fn record(ctx: &Applications, mail_id: i64, p: &intake::Prepared) -> intake::Outcome {
    let mut tx = ctx.outbox.begin().await.unwrap();
    let o = ctx.record(&mut tx, mail_id, p).await.unwrap();
    tx.commit().await.unwrap();
    o
}

fn mail(id: &str, body: &str, extra: &str) -> Vec<u8> {
    format!(
        "From: Ana Ruiz <ana@region.test>\r\nTo: wg@example.org\r\nSubject: Expression of interest\r\n\
         Message-ID: <{id}@region.test>\r\n{extra}MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b\r\n\
         Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"cv.pdf\"\r\n\r\n\
         %PDF-1.4 a small file\r\n--b--\r\n"
    )
    .into_bytes()
}

const FORM: &str = "Name: Ana Ruiz\r\nOrganisation: Junta de Andalucia\r\n\
                    Type of organisation: Public authority\r\nCountry: Spain\r\n\
                    Working group: Digital\r\nRole: Core team member\r\n\
                    Motivation: we train rural SMEs in digital skills and want to share it.\r\n";

#[tokio::test]
async fn corrections_update_one_record_and_acks_are_throttled() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    let parse = |raw: &[u8]| {
        let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
        intake::prepare(&ctx.s, &msg).expect("an EoI")
    };
    let first = parse(&mail("m1", FORM, ""));
    assert_eq!(first.email, "ana@region.test");
    assert_eq!(first.attachments.len(), 1);
    assert!(
        first.attachments[0].content.is_none(),
        "over the 10-byte cap"
    );
    let o1 = record(&ctx, 1, &first).await;
    assert!(o1.created && o1.acknowledged);

    // The same application again: same record, no second acknowledgement.
    let o2 = record(&ctx, 2, &parse(&mail("m2", FORM, ""))).await;
    assert_eq!(o2.id, o1.id);
    assert!(!o2.created && !o2.acknowledged);

    // A correction changes the country: acknowledged again, the rest kept.
    let reply =
        "Correction:\r\nCountry: Portugal\r\n\r\nOn Monday Ana wrote:\r\n> Name: Ana Ruiz\r\n";
    let fix = parse(&mail("m3", reply, "In-Reply-To: <m1@region.test>\r\n"));
    let o3 = record(&ctx, 3, &fix).await;
    assert_eq!(o3.id, o1.id);
    assert!(o3.acknowledged);

    let all = store::list(&ctx.db, Some("digital"), None).await.unwrap();
    assert_eq!(all.len(), 1);
    let e = &all[0];
    assert_eq!(e.record.country.as_deref(), Some("PT"));
    assert_eq!(e.record.organisation.as_deref(), Some("Junta de Andalucia"));
    assert_eq!(e.status, "complete", "{:?}", e.record.missing);
    assert_eq!(e.message_id.as_deref(), Some("m3@region.test"));
    assert_eq!(store::history_len(&ctx.db, e.id).await.unwrap(), 3);
    let files = store::attachments(&ctx.db, e.id).await.unwrap();
    assert_eq!(files.len(), 3);
    assert!(
        files
            .iter()
            .all(|(_, t, _, kept)| t == "application/pdf" && !kept)
    );

    let (acks,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE key LIKE 'eoi-ack-%'")
        .fetch_one(&ctx.db.pool)
        .await
        .unwrap();
    assert_eq!(acks, 2);
    let (cards,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM outbox WHERE key LIKE 'eoi-card-%' OR key LIKE 'eoi-update-%'",
    )
    .fetch_one(&ctx.db.pool)
    .await
    .unwrap();
    assert_eq!(cards, 3, "one card, two updates");
}

#[tokio::test]
async fn accept_within_caps_then_refuse_with_the_reason() {
    use super::review::Verdict;
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with(dir.path(), |c| c.applications.max_members = 1).await;
    let mut ids = Vec::new();
    for (n, who) in ["ana", "bo"].iter().enumerate() {
        let raw = String::from_utf8(mail(&format!("x{n}"), FORM, ""))
            .unwrap()
            .replace("ana@region.test", &format!("{who}@region.test"))
            .replace("Ana Ruiz", who);
        let msg = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        let p = intake::prepare(&ctx.s, &msg).unwrap();
        ids.push(record(&ctx, n as i64, &p).await.id);
    }
    let accept = || Verdict::Accept {
        role: None,
        group: None,
    };
    let ok = ctx.decide(ids[0], accept(), "@sec:x").await.unwrap();
    assert!(
        ok.contains("now **accepted** in `digital` as member"),
        "{ok}"
    );
    let again = ctx.decide(ids[0], accept(), "@sec:x").await.unwrap();
    assert!(again.contains("already accepted"), "{again}");
    let full = ctx.decide(ids[1], accept(), "@sec:x").await.unwrap();
    assert!(
        full.contains("core team is full (1 of 1 members)"),
        "{full}"
    );
    let wait = ctx
        .decide(ids[1], Verdict::Waitlist, "@sec:x")
        .await
        .unwrap();
    assert!(wait.contains("**waitlisted**"), "{wait}");
    assert_eq!(
        ctx.decide(99, Verdict::Waitlist, "@sec:x").await.unwrap(),
        "No application #99."
    );
    let decisions: Vec<(String,)> =
        sqlx::query_as("SELECT key FROM outbox WHERE key LIKE 'eoi-%-decision-%' ORDER BY id")
            .fetch_all(&ctx.db.pool)
            .await
            .unwrap();
    assert_eq!(decisions.len(), 2, "{decisions:?}");
}

#[tokio::test]
async fn eois_go_to_the_open_call_of_their_group_or_are_late() {
    use crate::calendar::model::{Call, CallKind, DateSpec, Item};
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    let bxl = chrono_tz::Europe::Brussels;
    for (id, opens, closes) in [
        ("digital-2025", "2025-03-01", "2025-03-31"),
        ("digital-2099", "2099-01", "2099-02"),
    ] {
        let call = Call {
            id: id.into(),
            title: format!("Call {id}"),
            groups: vec!["digital".into()],
            kind: CallKind::Members,
            opens: DateSpec::parse(opens, bxl).unwrap(),
            closes: DateSpec::parse(closes, bxl).unwrap(),
            link: None,
        };
        crate::calendar::store::upsert(&ctx.db, &Item::Call(call), "file")
            .await
            .unwrap();
    }
    let take = |who: &str, date: &str| {
        let raw = String::from_utf8(mail(who, FORM, &format!("Date: {date}\r\n")))
            .unwrap()
            .replace("ana@region.test", &format!("{who}@region.test"));
        let msg = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        intake::prepare(&ctx.s, &msg).unwrap()
    };
    let open = take("ana", "Mon, 31 Mar 2025 23:30:00 +0200");
    let o = record(&ctx, 1, &open).await;
    assert_eq!((o.call.as_str(), o.late), ("digital-2025", false));
    let late = take("bo", "Tue, 01 Apr 2025 00:30:00 +0200");
    let l = record(&ctx, 2, &late).await;
    assert_eq!(
        (l.call.as_str(), l.late, l.acknowledged),
        ("digital-2025", true, true)
    );

    let e = store::get(&ctx.db.pool, l.id).await.unwrap().unwrap();
    assert_eq!(e.status, "late");
    let lates = store::list(&ctx.db, None, Some("late")).await.unwrap();
    assert_eq!(lates.len(), 1);
    let (raw,): (Vec<u8>,) = sqlx::query_as("SELECT data FROM outbox WHERE key = 'eoi-closed-2'")
        .fetch_one(&ctx.db.pool)
        .await
        .unwrap();
    let raw = String::from_utf8_lossy(&raw);
    assert!(
        raw.contains("the call is closed") && raw.contains("2099-01"),
        "{raw}"
    );

    let r = ctx.under_review(l.id, "@sec:x").await.unwrap();
    assert!(
        r.contains("(late application) is now **under_review**"),
        "{r}"
    );
    let again = ctx.under_review(l.id, "@sec:x").await.unwrap();
    assert!(again.contains("already under review"), "{again}");
    let steps: Vec<String> = store::transitions(&ctx.db, l.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| format!("{} {}", t.0, t.1.unwrap_or_default()))
        .collect();
    assert_eq!(steps, ["late ", "under_review @sec:x"]);
}
