use super::*;

fn all() -> Vec<Key> {
    let s = |x: &str| x.to_owned();
    vec![
        Key::Mail(42),
        Key::MailPart { mail: 42, n: 3 },
        Key::MailOriginal(42),
        Key::EoiGroupNotice(43),
        Key::MailStatus {
            item: 7,
            state: s("sent"),
            at: 1_700_000_000_000,
        },
        Key::NotMailed(s("$ev-2")),
        Key::Unsendable(s("$ev-3")),
        Key::Command(s("$ev-1_x:y")),
        Key::Quarantine(7),
        Key::Failure(9),
        Key::FailureHere(9),
        Key::EoiCard(12),
        Key::EoiUpdate { eoi: 12, mail: 40 },
        Key::EoiDecided {
            eoi: 12,
            event: s("$abc-def"),
        },
        Key::EoiInvite { eoi: 12, n: 2 },
        Key::EoiSpaceInvite { eoi: 12, n: 2 },
        Key::EoiExport(s("$e")),
        Key::EoiJoined { eoi: 4, into: 2 },
        Key::ReplyLimit(40),
        Key::Overflow(Box::new(Key::EoiCard(12))),
        Key::Overflow(Box::new(Key::Command(s("$ev-1_x:y")))),
        Key::Proposal(5),
        Key::ProposalAdded(5),
        Key::Reminder {
            key: s("meeting:wg-health@2026-05-12:86400:2026-05-11T08:00:00Z"),
            to: Target::Group(s("research-innovation")),
        },
        Key::Reminder {
            key: s("deadline:x:86400:2026-05-11T07:00:00Z"),
            to: Target::Dm(s("@ana-maria:example.org")),
        },
        Key::RemindersMissed(s("meeting:a:1:2")),
        Key::Job {
            name: s("weekly-digest"),
            at: s("2026-03-30T07:00:00Z"),
        },
        Key::Subscribed {
            slug: s("research-innovation"),
            user: s("@a-b:c"),
        },
        Key::Bell(s("$reaction-1")),
        Key::Changed {
            item: s("meeting:digital-subgroup"),
            rev: 3,
            to: Target::Group(s("digital")),
        },
        Key::Changed {
            item: s("meeting:wg-2026.05"),
            rev: 12,
            to: Target::Dm(s("@ana-maria:example.org")),
        },
        Key::Snoozed {
            key: s("meeting:wg@2026-05-12:2026-05-12T08:00:00Z:3600:2026-05-12T07:00:00Z"),
            user: s("@a|b:c"),
        },
        Key::Sent(s("$e")),
        Key::Notice(s("calendar-file-error-123")),
        Key::Redact(s("$card-1")),
        Key::PrivacyExport(s("$cmd-2")),
        Key::Ack(40),
        Key::CallClosed(41),
        Key::Decision { eoi: 3, n: 2 },
        Key::Ask {
            eoi: 3,
            at: s("$ev-9"),
        },
        Key::Reply(s("$ev")),
        Key::ReminderMail {
            key: s("meeting:a:1:2"),
            to: s("sec@example.org"),
        },
        Key::Invitation {
            item: s("meeting:health-webinar-week"),
            rev: 4,
            to: s("sec@example.org"),
        },
        Key::AgendaMail {
            occurrence: s("digital-subgroup@2026-05-19"),
            rev: 0,
            to: s("odd|local@example.org"),
        },
    ]
}

#[test]
fn every_key_reads_back_as_itself() {
    for key in all() {
        let text = key.to_string();
        assert_eq!(Key::parse(&text), key, "{text}");
    }
}

#[test]
fn keys_of_older_versions_still_read() {
    assert_eq!(Key::parse("eoi-card-3"), Key::EoiCard(3));
    assert_eq!(
        Key::parse("reminder-meeting:x:60:2026-01-01T00:00:00Z@health"),
        Key::Reminder {
            key: "meeting:x:60:2026-01-01T00:00:00Z".into(),
            to: Target::Group("health".into())
        }
    );
    // The old DM and subscription forms were ambiguous: they stay opaque.
    assert!(matches!(
        Key::parse("reminder-k@dm-@u:server"),
        Key::Other(_)
    ));
    assert!(matches!(Key::parse("calendar-file-error-1"), Key::Other(_)));
    assert!(matches!(Key::parse("mail-x"), Key::Other(_)));
}

#[test]
fn transaction_text_is_path_safe() {
    let t = Key::Command("$a/b:c".into()).txn_text();
    assert_eq!(t, "cmd-_a_b_c");
}
