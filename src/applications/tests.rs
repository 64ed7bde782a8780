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
        "Return-Path: <ana@region.test>\r\nFrom: Ana Ruiz <ana@region.test>\r\nTo: wg@example.org\r\nSubject: Expression of interest\r\n\
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

/// A mail as our server stores it: `envelope` is the topmost Return-Path it recorded.
fn raw_mail(envelope: &str, from: &str, id: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "Return-Path: <{envelope}>\r\nFrom: {from}\r\nTo: wg@example.org\r\n\
         Subject: Expression of interest\r\nMessage-ID: <{id}@x.test>\r\n{extra}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn prepared(ctx: &Applications, raw: &[u8]) -> intake::Prepared {
    let msg = mail_parser::MessageParser::default().parse(raw).unwrap();
    intake::prepare(&ctx.s, &msg).expect("an EoI")
}

fn form(name: &str, org: &str, extra: &str) -> String {
    format!(
        "Name: {name}\r\nOrganisation: {org}\r\nType of organisation: Public authority\r\n\
         Country: Spain\r\nWorking group: Digital\r\nRole: Core team member\r\n{extra}\
         Motivation: we train rural SMEs in digital skills and want to share it with others.\r\n"
    )
}

/// The raw mails queued to `to`.
async fn mails_to(ctx: &Applications, to: &str) -> Vec<String> {
    let rows: Vec<(String, Vec<u8>)> =
        sqlx::query_as("SELECT op, data FROM outbox WHERE transport = 'mail' ORDER BY id")
            .fetch_all(&ctx.db.pool)
            .await
            .unwrap();
    rows.into_iter()
        .filter(|(op, _)| op.contains(&format!("\"{to}\"")))
        .map(|(_, raw)| String::from_utf8_lossy(&raw).into_owned())
        .collect()
}

#[test]
fn whose_application_a_mail_is() {
    let cfg = super::extract::ExtractConfig::default();
    let who = |raw: &str| {
        let msg = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        let app = super::extract::extract(&msg, &cfg);
        intake::attribute(&app, &crate::mail::trust::assess(&msg, &[]), &cfg).unwrap()
    };
    let body = form("Ana", "Junta", "");
    // Aligned: the sender's own, whatever address the body names.
    let own = who(&format!(
        "Return-Path: <ana@x.test>\nFrom: Ana <Ana@X.test>\nSubject: EoI\n\n{body}Email: vera@y.test\n"
    ));
    assert_eq!((own.email.as_str(), own.owner.as_str()), ("ana@x.test", ""));
    assert_eq!(own.contact.as_deref(), Some("vera@y.test"));
    assert_eq!(own.reply_to.as_deref(), Some("ana@x.test"));
    // A From that does not align with the envelope: submitted by the envelope sender.
    let forged = who(&format!(
        "Return-Path: <mallory@evil.test>\nFrom: vera@y.test\nSubject: EoI\n\n{body}"
    ));
    assert_eq!(
        (forged.email.as_str(), forged.owner.as_str()),
        ("vera@y.test", "mallory@evil.test")
    );
    assert_eq!(forged.reply_to, None);
    // An inline forward: the forwarded applicant's, submitted by the forwarder.
    let fwd = who(&format!(
        "Return-Path: <hans@z.test>\nFrom: Hans <hans@z.test>\nSubject: Fwd: EoI\n\nSee below.\n\n\
         ---------- Forwarded message ---------\nFrom: Vera <vera@y.test>\nSubject: EoI\n\n{body}"
    ));
    assert_eq!(
        (fwd.email.as_str(), fwd.owner.as_str()),
        ("vera@y.test", "hans@z.test")
    );
    assert_eq!(fwd.reply_to.as_deref(), Some("hans@z.test"));
    // A web form: the Reply-To person's, submitted by the robot, which gets no reply.
    let web = who(&format!(
        "Return-Path: <no-reply@site.test>\nFrom: Site <no-reply@site.test>\n\
         Reply-To: Kaisa <kaisa@u.test>\nSubject: EoI\n\n{body}"
    ));
    assert_eq!(
        (web.email.as_str(), web.owner.as_str()),
        ("kaisa@u.test", "no-reply@site.test")
    );
    assert_eq!(web.reply_to, None);
    // No envelope recorded at all: nobody vouches for the From address.
    let bare = who(&format!("From: ana@x.test\nSubject: EoI\n\n{body}"));
    assert_eq!(
        (bare.email.as_str(), bare.owner.as_str()),
        ("ana@x.test", "ana@x.test")
    );
}

#[tokio::test]
async fn a_stranger_naming_an_applicants_address_changes_and_learns_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    let vera = prepared(
        &ctx,
        &raw_mail(
            "vera@y.test",
            "Vera <vera@y.test>",
            "v1",
            "",
            &form("Vera Lind", "Lund University", ""),
        ),
    );
    let v = record(&ctx, 1, &vera).await;
    // Mallory, aligned as herself, names Vera's address in the body.
    let claim = prepared(
        &ctx,
        &raw_mail(
            "mallory@evil.test",
            "mallory@evil.test",
            "m1",
            "",
            &form("Vera Lind", "Evil Corp", "Email: vera@y.test\r\n"),
        ),
    );
    assert_eq!(claim.email, "mallory@evil.test");
    let m = record(&ctx, 2, &claim).await;
    assert_ne!(m.id, v.id);
    // Mallory forges Vera's From from her own envelope.
    let forged = prepared(
        &ctx,
        &raw_mail(
            "mallory@evil.test",
            "Vera <vera@y.test>",
            "m2",
            "",
            &form("Vera Lind", "Evil Corp", ""),
        ),
    );
    let f = record(&ctx, 3, &forged).await;
    assert_ne!(f.id, v.id);
    assert!(!f.acknowledged, "no reply without an aligned sender");
    assert!(f.not_acknowledged.unwrap().contains("aligned"));

    let e = store::get(&ctx.db.pool, v.id).await.unwrap().unwrap();
    assert_eq!(e.record.organisation.as_deref(), Some("Lund University"));
    assert_eq!(store::history_len(&ctx.db, v.id).await.unwrap(), 1);
    let m = store::get(&ctx.db.pool, m.id).await.unwrap().unwrap();
    assert_eq!(
        (m.email.as_str(), m.contact.as_deref()),
        ("mallory@evil.test", Some("vera@y.test"))
    );
    let f = store::get(&ctx.db.pool, f.id).await.unwrap().unwrap();
    assert_eq!(
        (f.email.as_str(), f.owner.as_str()),
        ("vera@y.test", "mallory@evil.test")
    );
    // Mallory's one reply holds what she wrote, nothing of Vera's record.
    let to_mallory = mails_to(&ctx, "mallory@evil.test").await;
    assert_eq!(to_mallory.len(), 1);
    assert!(!to_mallory[0].contains("Lund"), "{}", to_mallory[0]);
    assert_eq!(
        mails_to(&ctx, "vera@y.test").await.len(),
        1,
        "Vera's own ack only"
    );
    // A submitted record is not decided; its decision would reach nobody confirmed.
    use super::review::Verdict;
    let refused = ctx.decide(f.id, Verdict::Waitlist, "@sec:x").await.unwrap();
    assert!(refused.contains("!eoi confirm"), "{refused}");
    // Vera writes again: the unaligned forgery in her name does not join her record.
    let again = prepared(
        &ctx,
        &raw_mail(
            "vera@y.test",
            "vera@y.test",
            "v2",
            "",
            "Country: Norway\r\nA correction.\r\n",
        ),
    );
    assert_eq!(record(&ctx, 4, &again).await.id, v.id);
    let f = store::get(&ctx.db.pool, f.id).await.unwrap().unwrap();
    assert_eq!(f.joined_into, None);
    let e = store::get(&ctx.db.pool, v.id).await.unwrap().unwrap();
    assert_eq!(e.record.organisation.as_deref(), Some("Lund University"));
}

#[tokio::test]
async fn a_forward_joins_the_applicants_own_record_when_the_applicant_writes() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    let body = format!(
        "Sent to me by mistake.\r\n\r\n---------- Forwarded message ---------\r\n\
         From: Vera <vera@y.test>\r\nSubject: EoI\r\n\r\n{}",
        form(
            "Vera Lind",
            "Lund University",
            "Matrix id: @hans:z.test\r\n"
        )
    );
    let fwd = prepared(
        &ctx,
        &raw_mail("hans@z.test", "Hans <hans@z.test>", "f1", "", &body),
    );
    assert_eq!(
        (fwd.email.as_str(), fwd.owner.as_str()),
        ("vera@y.test", "hans@z.test")
    );
    let f = record(&ctx, 1, &fwd).await;
    assert!(f.acknowledged, "the forwarder is told");
    assert_eq!(mails_to(&ctx, "vera@y.test").await.len(), 0);
    let e = store::get(&ctx.db.pool, f.id).await.unwrap().unwrap();
    assert_eq!(e.submitter(), Some("hans@z.test"));

    // Vera writes herself: the forwarded record becomes hers, without Hans's Matrix id.
    let own = prepared(
        &ctx,
        &raw_mail(
            "vera@y.test",
            "vera@y.test",
            "v1",
            "",
            "Country: Sweden\r\nI confirm my application.\r\n",
        ),
    );
    let o = record(&ctx, 2, &own).await;
    assert_eq!(o.id, f.id);
    let e = store::get(&ctx.db.pool, f.id).await.unwrap().unwrap();
    assert!(e.is_own());
    assert_eq!(e.submitter(), Some("hans@z.test"));
    assert_eq!(e.record.organisation.as_deref(), Some("Lund University"));
    assert_eq!(e.record.matrix_id, None);
    use super::review::Verdict;
    let ok = ctx.decide(f.id, Verdict::Waitlist, "@sec:x").await.unwrap();
    assert!(ok.contains("**waitlisted**"), "{ok}");
    assert_eq!(
        mails_to(&ctx, "vera@y.test").await.len(),
        2,
        "ack and decision"
    );
}

#[tokio::test]
async fn the_secretariat_confirms_a_submission_into_the_applicants_record() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    let vera = prepared(
        &ctx,
        &raw_mail(
            "vera@y.test",
            "vera@y.test",
            "v1",
            "",
            &form("Vera Lind", "Lund University", ""),
        ),
    );
    let v = record(&ctx, 1, &vera).await;
    let web = prepared(
        &ctx,
        &raw_mail(
            "no-reply@site.test",
            "Site <no-reply@site.test>",
            "w1",
            "Reply-To: Vera <vera@y.test>\r\n",
            &form(
                "Vera Lind",
                "Lund University",
                "Region: Scania\r\nMatrix id: @vera:y.test\r\n",
            ),
        ),
    );
    let w = record(&ctx, 2, &web).await;
    assert_ne!(w.id, v.id);
    assert!(!w.acknowledged, "a robot gets no reply");
    let answer = ctx.confirm(w.id, "@sec:x").await.unwrap();
    assert!(
        answer.contains(&format!("joined into #{}", v.id)),
        "{answer}"
    );
    let e = store::get(&ctx.db.pool, v.id).await.unwrap().unwrap();
    assert_eq!(e.record.region.as_deref(), Some("Scania"));
    assert_eq!(e.record.matrix_id.as_deref(), Some("@vera:y.test"));
    let listed = store::list(&ctx.db, None, None).await.unwrap();
    assert_eq!(listed.len(), 1, "the joined record leaves the list");
    assert!(
        ctx.confirm(w.id, "@sec:x")
            .await
            .unwrap()
            .contains("already joined")
    );
}

#[tokio::test]
async fn twenty_changed_applications_in_a_minute_get_three_replies_and_one_notice() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    for n in 0..20 {
        let p = prepared(
            &ctx,
            &raw_mail(
                "ana@x.test",
                "ana@x.test",
                &format!("a{n}"),
                "",
                &form(&format!("Ana {n}"), "Junta", ""),
            ),
        );
        record(&ctx, n, &p).await;
    }
    assert_eq!(mails_to(&ctx, "ana@x.test").await.len(), 3);
    let (notices,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE key LIKE 'auto-reply-limit-%'")
            .fetch_one(&ctx.db.pool)
            .await
            .unwrap();
    assert_eq!(notices, 1);
    let (held,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM auto_reply WHERE suppressed = 'address'")
            .fetch_one(&ctx.db.pool)
            .await
            .unwrap();
    assert_eq!(held, 17);
}

#[tokio::test]
async fn unverified_senders_are_not_acknowledged_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with(dir.path(), |c| {
        c.applications.ack_unverified = false;
        c.mailbox.authserv_id = vec!["mx.example.org".into()];
    })
    .await;
    let pass = "Authentication-Results: mx.example.org; dmarc=pass header.from=x.test\r\n";
    let forged = "Authentication-Results: mx.example.org; dmarc=fail header.from=y.test\r\n";
    // Our server's header is the topmost; a lower one with our id was written by the sender.
    let raw = |who: &str, id: &str, ar: &str| {
        let mut raw = ar.as_bytes().to_vec();
        raw.extend(raw_mail(who, who, id, pass, &form("Ana", "Junta", "")));
        raw
    };
    let ok = prepared(&ctx, &raw("ana@x.test", "a1", ""));
    assert!(ok.auth.verified, "{:?}", ok.auth);
    assert!(record(&ctx, 1, &ok).await.acknowledged);
    let bad = prepared(&ctx, &raw("vera@y.test", "v1", forged));
    assert!(!bad.auth.verified, "{:?}", bad.auth);
    let o = record(&ctx, 2, &bad).await;
    assert!(!o.acknowledged);
    let e = store::get(&ctx.db.pool, o.id).await.unwrap().unwrap();
    let md = super::card::markdown(&e, "Expression of interest");
    assert!(md.contains("Sender: unverified (dmarc=fail"), "{md}");
}

#[tokio::test]
async fn an_unverified_mail_never_changes_a_record_our_server_verified() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx_with(dir.path(), |c| {
        c.mailbox.authserv_id = vec!["mx.example.org".into()];
    })
    .await;
    let with = |ar: &str, id: &str, org: &str| {
        let mut raw = format!("Authentication-Results: mx.example.org; {ar}\r\n").into_bytes();
        raw.extend(raw_mail(
            "vera@y.test",
            "vera@y.test",
            id,
            "",
            &form("Vera", org, ""),
        ));
        raw
    };
    let first = prepared(
        &ctx,
        &with("dkim=pass header.d=y.test", "v1", "Lund University"),
    );
    assert!(first.auth.verified);
    let v = record(&ctx, 1, &first).await;
    // Both From and envelope say Vera, as anyone can write them; our server says otherwise.
    let forged = prepared(
        &ctx,
        &with("spf=fail smtp.mailfrom=y.test", "f1", "Evil Corp"),
    );
    assert_eq!(forged.owner, "", "aligned: it claims to be her own");
    let f = record(&ctx, 2, &forged).await;
    assert_ne!(f.id, v.id);
    assert!(!f.acknowledged);
    let e = store::get(&ctx.db.pool, v.id).await.unwrap().unwrap();
    assert_eq!(e.record.organisation.as_deref(), Some("Lund University"));
    let apart = store::get(&ctx.db.pool, f.id).await.unwrap().unwrap();
    assert_eq!(apart.owner, "vera@y.test");
    assert_eq!(
        mails_to(&ctx, "vera@y.test").await.len(),
        1,
        "only the first ack"
    );
    // Her next verified mail changes her own record, and leaves the forgery where it is.
    let next = prepared(
        &ctx,
        &with("dmarc=pass header.from=y.test", "v2", "Lund Uni"),
    );
    assert_eq!(record(&ctx, 3, &next).await.id, v.id);
    let apart = store::get(&ctx.db.pool, f.id).await.unwrap().unwrap();
    assert_eq!(apart.joined_into, None);
}
