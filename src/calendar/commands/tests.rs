use super::*;
use crate::calendar::model::{Item, ItemKind, ItemRef, Meeting, Mode};

fn kv(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn key_values_with_and_without_quotes() {
    let got = parse_kv(
        r#"add id=wg-health-2026-05 group=health,digital start=2026-05-12T10:00 title="Health online meeting" location=“Rue de la Loi 200” Mode=online"#,
    )
    .unwrap();
    assert_eq!(
        got,
        vec![
            kv("", "add"),
            kv("id", "wg-health-2026-05"),
            kv("group", "health,digital"),
            kv("start", "2026-05-12T10:00"),
            kv("title", "Health online meeting"),
            kv("location", "Rue de la Loi 200"),
            kv("mode", "online"),
        ]
    );
    assert_eq!(
        parse_kv("cancel m1").unwrap(),
        vec![kv("", "cancel"), kv("", "m1")]
    );
    assert_eq!(parse_kv("  ").unwrap(), vec![]);
    assert_eq!(parse_kv("title=").unwrap(), vec![kv("title", "")]);
    assert!(parse_kv(r#"title="open"#).unwrap_err().contains("title"));
}

#[test]
fn the_text_after_the_command_name_keeps_its_quotes() {
    assert_eq!(
        raw_args(r#"!meeting add title="A  b""#),
        r#"add title="A  b""#
    );
    assert_eq!(raw_args("!meeting"), "");
}

#[test]
fn every_command_has_help_and_editing_is_for_the_secretariat() {
    for name in [
        "next",
        "meetings",
        "agenda",
        "deadlines",
        "calls",
        "timeline",
        "apply",
        "ics",
        "cadence",
    ] {
        assert!(handles(name), "{name}");
        assert!(!HELP.iter().find(|h| h.0 == name).unwrap().3);
    }
    for name in ["meeting", "deadline", "call"] {
        assert!(HELP.iter().find(|h| h.0 == name).unwrap().3, "{name}");
    }
    assert!(!handles("help"));
}

async fn ctx(dir: &std::path::Path) -> crate::daemon::Parts {
    let mut c = crate::config::Config::from_toml(crate::config::EXAMPLE, Vec::new()).unwrap();
    c.state_dir = dir.to_owned();
    crate::daemon::Parts::build(&c).await.unwrap()
}

async fn run(ctx: &crate::daemon::Parts, text: &str, group: Option<&str>, admin: bool) -> String {
    let inv = Invocation {
        text,
        sender: "@sec:example.org",
        group,
        is_admin: admin,
        in_management_room: group.is_none(),
        event_id: None,
        thread_root: None,
        context: Default::default(),
    };
    ctx.commands.execute(&inv).await.unwrap().unwrap().markdown
}

#[tokio::test]
async fn the_secretariat_adds_edits_and_cancels_and_members_see_it() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    let add = r#"!meeting add id=wg-health-2099-05 start=2099-05-12T10:00 end=2099-05-12T12:00 mode=online title="Health online meeting""#;
    assert!(
        run(&ctx, add, Some("health"), false)
            .await
            .contains("secretariat only")
    );
    let out = run(&ctx, add, Some("health"), true).await;
    assert!(
        out.starts_with("Added meeting `wg-health-2099-05`"),
        "{out}"
    );
    let r = ItemRef {
        kind: ItemKind::Meeting,
        id: "wg-health-2099-05".into(),
    };
    let (Item::Meeting(m), 0) = store::get(&ctx.db, &r).await.unwrap().unwrap() else {
        panic!("stored at revision 0");
    };
    assert_eq!(
        m.groups,
        vec!["health".to_owned()],
        "the room's group by default"
    );

    let out = run(
        &ctx,
        "!meeting edit id=wg-health-2099-05 mode=physical location=\"Brussels, Rue Belliard 99\"",
        None,
        true,
    )
    .await;
    assert!(out.starts_with("Updated"), "{out}");
    let out = run(&ctx, "!meeting cancel wg-health-2099-05", None, true).await;
    assert!(out.starts_with("Cancelled"), "{out}");
    let (Item::Meeting(m), 2) = store::get(&ctx.db, &r).await.unwrap().unwrap() else {
        panic!("two changes, two revisions");
    };
    assert!(m.cancelled && m.mode == Mode::Physical && m.is_physical_in_brussels());
    assert!(
        run(&ctx, "!meeting edit id=nope title=x", None, true)
            .await
            .contains("no meeting `nope`")
    );
    assert!(
        run(&ctx, "!meeting add title=x", None, true)
            .await
            .contains("missing `start=…`")
    );
    assert!(
        run(&ctx, "!meeting add title=x start=2099-13-01", None, true)
            .await
            .contains("`start`")
    );
    assert!(
        run(
            &ctx,
            "!deadline add title=x due=2099-01-01 group=nope",
            None,
            true
        )
        .await
        .contains("no group `nope`")
    );

    let out = run(
        &ctx,
        r#"!deadline add title="Comments on the issue paper" due=2099-06-01 group=health"#,
        None,
        true,
    )
    .await;
    assert!(
        out.starts_with("Added deadline `comments-on-the-issue-paper-2099-06-01`"),
        "{out}"
    );
    let out = run(
        &ctx,
        r#"!call add title="Call for members" opens=2099-01-01 closes=2099-02-01"#,
        None,
        true,
    )
    .await;
    assert!(out.starts_with("Added call"), "{out}");

    let deadlines = run(&ctx, "!deadlines health", Some("digital"), false).await;
    assert!(
        deadlines.contains("Comments on the issue paper"),
        "{deadlines}"
    );
    assert!(
        !run(&ctx, "!deadlines", Some("digital"), false)
            .await
            .contains("Comments on")
    );
    let meetings = run(&ctx, "!meetings 2099", Some("health"), false).await;
    assert!(meetings.contains("Health online meeting"), "{meetings}");
    let ics = run(&ctx, "!ics", Some("health"), false).await;
    assert!(
        ics.contains("http://127.0.0.1:8080/calendar/health.ics"),
        "{ics}"
    );
    assert!(
        run(&ctx, "!cadence 2099", None, false)
            .await
            .contains("Cadence 2099")
    );
    assert!(
        run(&ctx, "!agenda", None, false)
            .await
            .contains("Which meeting")
    );
}

async fn stored(ctx: &crate::daemon::Parts, id: &str) -> Meeting {
    let r = ItemRef {
        kind: ItemKind::Meeting,
        id: id.into(),
    };
    match store::get(&ctx.db, &r).await.unwrap() {
        Some((Item::Meeting(m), _)) => m,
        other => panic!("no meeting {id}: {other:?}"),
    }
}

#[tokio::test]
async fn series_by_command_one_date_cancelled_moved_and_changed() {
    use chrono::NaiveDate;
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let out = run(
        &ctx,
        r#"!meeting add id=sub title="Digital sub-group call" start=2099-03-03T14:00 end=15:30 repeat=weekly days=tu,th interval=2 until=2099-06-30"#,
        Some("digital"),
        true,
    )
    .await;
    assert!(out.starts_with("Added meeting `sub`"), "{out}");
    assert!(
        out.contains("every 2 weeks on Tuesday and Thursday, until 30 Jun 2099"),
        "{out}"
    );
    let m = stored(&ctx, "sub").await;
    assert_eq!(m.end, Some("2099-03-03T15:30".parse().unwrap()));
    // A rule the model cannot hold names its key; series keys need `repeat=`.
    let bad = run(
        &ctx,
        "!meeting add title=x start=2099-03-03T14:00 repeat=weekly days=2tu",
        None,
        true,
    )
    .await;
    assert!(bad.contains("`days`"), "{bad}");
    let bad = run(
        &ctx,
        "!meeting add title=x start=2099-03-03T14:00 until=2099-04-01",
        None,
        true,
    )
    .await;
    assert!(
        bad.contains("`until`") && bad.contains("repeat=weekly"),
        "{bad}"
    );

    let out = run(&ctx, "!meeting cancel sub on=2099-03-05", None, true).await;
    assert!(
        out.starts_with("Cancelled meeting `sub`") && out.contains("on Thu 5 Mar"),
        "{out}"
    );
    let bad = run(&ctx, "!meeting cancel sub on=2099-03-04", None, true).await;
    assert!(bad.contains("not a date of the series"), "{bad}");
    let out = run(
        &ctx,
        "!meeting move sub on=2099-03-17 to=2099-03-18T10:00",
        None,
        true,
    )
    .await;
    assert!(out.starts_with("Moved meeting `sub`"), "{out}");
    let out = run(
        &ctx,
        r#"!meeting edit sub on=2099-03-19 mode=physical location="Rue Belliard 99, Brussels""#,
        None,
        true,
    )
    .await;
    assert!(out.starts_with("Updated"), "{out}");
    let bad = run(&ctx, "!meeting move sub to=2099-03-18T10:00", None, true).await;
    assert!(bad.contains("one date at a time"), "{bad}");
    let m = stored(&ctx, "sub").await;
    let rule = m.repeat.as_ref().unwrap();
    assert_eq!(rule.except, vec![day("2099-03-05")]);
    let moved = rule.override_on(day("2099-03-17")).unwrap();
    assert_eq!(moved.to, Some("2099-03-18T10:00".parse().unwrap()));
    let there = rule.override_on(day("2099-03-19")).unwrap();
    assert_eq!(
        (there.to.as_ref(), there.mode),
        (None, Some(Mode::Physical))
    );
    assert_eq!(there.location.as_deref(), Some("Rue Belliard 99, Brussels"));
    // Restored; then every date an hour later.
    run(&ctx, "!meeting restore sub on=2099-03-05", None, true).await;
    let out = run(&ctx, "!meeting move sub to=15:00", None, true).await;
    assert!(out.starts_with("Moved"), "{out}");
    let m = stored(&ctx, "sub").await;
    assert!(m.repeat.as_ref().unwrap().except.is_empty());
    assert_eq!(m.start, "2099-03-03T15:00".parse().unwrap());
    assert_eq!(m.end, Some("2099-03-03T16:30".parse().unwrap()));

    // A one-off meeting moves with its end.
    run(&ctx, r#"!meeting add id=one title="Plenary" start=2099-05-12T10:00 end=12:00 mode=physical location=Brussels"#, Some("health"), true).await;
    let out = run(&ctx, "!meeting move one to=2099-05-13T14:00", None, true).await;
    assert!(out.starts_with("Moved meeting `one`"), "{out}");
    let m = stored(&ctx, "one").await;
    assert_eq!(m.end, Some("2099-05-13T16:00".parse().unwrap()));
    assert!(
        run(&ctx, "!meeting move one on=2099-05-01 to=11:00", None, true)
            .await
            .contains("one meeting")
    );
}

#[tokio::test]
async fn agendas_zones_personal_reminders_and_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    run(
        &ctx,
        r#"!meeting add id=plen title="Plenary" start=2099-05-12T10:00 end=12:00"#,
        Some("health"),
        true,
    )
    .await;
    let out = run(
        &ctx,
        "!meeting agenda plen\n1. Adoption of the agenda (decision)\n2. Issue papers — information https://example.org/papers.pdf\n3. Good practices: point for discussion",
        None,
        true,
    )
    .await;
    assert!(out.starts_with("New agenda for meeting `plen`"), "{out}");
    let agenda = run(&ctx, "!agenda plen", Some("health"), false).await;
    assert!(
        agenda.contains("1. Adoption of the agenda — *point for decision*"),
        "{agenda}"
    );
    assert!(
        agenda.contains(
            "2. Issue papers — *information point* · [document](<https://example.org/papers.pdf>)"
        ),
        "{agenda}"
    );
    assert!(
        agenda.contains("3. Good practices — *point for discussion*"),
        "{agenda}"
    );
    assert!(
        run(&ctx, "!meeting agenda plen\nAdoption", None, true)
            .await
            .contains("agenda point")
    );
    // No members known (no accepted applicants): nothing is mailed.
    let out = run(&ctx, "!meeting send plen", None, true).await;
    assert!(out.contains("No member addresses"), "{out}");

    // The asker's zone beside Brussels time.
    assert!(
        run(&ctx, "!tz Mars/Olympus", None, false)
            .await
            .contains("not a time zone")
    );
    let out = run(&ctx, "!tz Europe/Lisbon", None, false).await;
    assert!(out.contains("Lisbon time"), "{out}");
    let next = run(&ctx, "!next", Some("health"), false).await;
    assert!(
        next.contains("10:00–12:00 Brussels time (09:00 Lisbon time)"),
        "{next}"
    );
    assert!(run(&ctx, "!tz off", None, false).await.contains("only"));
    assert!(
        !run(&ctx, "!next", Some("health"), false)
            .await
            .contains("Lisbon")
    );

    let out = run(&ctx, "!remind me next 2h", Some("health"), false).await;
    assert!(
        out.contains("I will remind you of **Plenary**") && out.contains("08:00"),
        "{out}"
    );
    assert_eq!(store::personal(&ctx.db).await.unwrap().len(), 1);
    assert!(
        run(&ctx, "!remind me nope 2h", None, false)
            .await
            .contains("No meeting or deadline")
    );
    assert!(
        run(&ctx, "!remind me plen soon", None, false)
            .await
            .contains("not an offset")
    );

    assert!(
        run(&ctx, "!subscribe", Some("health"), false)
            .await
            .contains("You will get the Health reminders")
    );
    assert!(
        run(&ctx, "!subscribe health", None, false)
            .await
            .contains("already")
    );
    assert!(
        run(&ctx, "!unsubscribe", None, false)
            .await
            .contains("No more Health reminders")
    );
    assert!(
        store::subscriptions_of(&ctx.db, "@sec:example.org")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn bells_alarm_clocks_and_thread_replies_on_reminders() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = ctx(dir.path()).await;
    run(
        &ctx,
        r#"!meeting add id=plen title="Plenary" start=2099-05-12T10:00"#,
        Some("health"),
        true,
    )
    .await;
    let cal = &ctx.calendar;
    let key = "meeting:plen:3600:2099-05-12T07:00:00Z".to_owned();
    let in_room = Key::Reminder {
        key: key.clone(),
        to: Target::Group("health".into()),
    };
    let user = "@ana:example.org";
    // 🔔 subscribes, 🔔 again ends it; each answered once by direct message.
    assert!(
        on_reaction(cal, user, false, "!r", &in_room, "🔔", "$r1")
            .await
            .unwrap()
    );
    assert_eq!(
        store::subscriptions_of(&ctx.db, user).await.unwrap(),
        vec!["health"]
    );
    // The same reaction event again (delivered twice) changes nothing.
    on_reaction(cal, user, false, "!r", &in_room, "🔔", "$r1")
        .await
        .unwrap();
    assert_eq!(
        store::subscriptions_of(&ctx.db, user).await.unwrap(),
        vec!["health"]
    );
    on_reaction(cal, user, false, "!r", &in_room, "🔔", "$r2")
        .await
        .unwrap();
    assert!(
        store::subscriptions_of(&ctx.db, user)
            .await
            .unwrap()
            .is_empty()
    );
    let bells: Vec<(String, String)> =
        sqlx::query_as("SELECT key, op FROM outbox WHERE key LIKE 'bell-%' ORDER BY id")
            .fetch_all(&ctx.db.pool)
            .await
            .unwrap();
    assert_eq!(bells.len(), 2);
    assert!(bells[0].1.contains("You will get") && bells[1].1.contains("No more"));

    // ⏰, then "remind me again in 30 minutes" in the thread: one snooze per person.
    on_reaction(cal, user, false, "!r", &in_room, "⏰", "$r3")
        .await
        .unwrap();
    let snoozes = store::pending_snoozes(&ctx.db).await.unwrap();
    assert_eq!(snoozes.len(), 1);
    assert_eq!(snoozes[0].item.id, "plen");
    let later = snoozes[0].due - chrono::Utc::now();
    assert!(later > chrono::TimeDelta::minutes(59) && later <= chrono::TimeDelta::hours(1));
    let again = on_thread_reply(cal, user, &in_room, "remind me again in 30 minutes")
        .await
        .unwrap()
        .unwrap();
    assert!(
        again.markdown.contains("already snoozed"),
        "{}",
        again.markdown
    );
    let bo = on_thread_reply(cal, "@bo:example.org", &in_room, "in 30 minutes")
        .await
        .unwrap()
        .unwrap();
    assert!(bo.markdown.contains("remind you again"), "{}", bo.markdown);
    assert_eq!(store::pending_snoozes(&ctx.db).await.unwrap().len(), 2);
    // Anything else in the thread is not the calendar's.
    assert!(
        on_thread_reply(cal, user, &in_room, "thanks")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        on_thread_reply(cal, user, &Key::Mail(1), "in 30 minutes")
            .await
            .unwrap()
            .is_none()
    );
}
