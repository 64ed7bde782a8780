//! The runner against a scripted transport on a real (temporary) SQLite database.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::*;
use crate::outbox::queue::Report;
use crate::storage::Db;

/// Answers each delivery with the next scripted outcome (then success), and records what it
/// was asked to send.
struct Script {
    transport: Transport,
    outcomes: Mutex<VecDeque<Result<String, SendError>>>,
    seen: Mutex<Vec<(String, String)>>,
}

impl Script {
    fn new(transport: Transport, outcomes: Vec<Result<String, SendError>>) -> Script {
        Script {
            transport,
            outcomes: Mutex::new(outcomes.into()),
            seen: Mutex::new(Vec::new()),
        }
    }
    fn seen(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.0.clone())
            .collect()
    }
}

impl Deliver for Script {
    fn transport(&self) -> Transport {
        self.transport
    }
    async fn deliver(&self, item: &Item, txn_id: &str) -> Result<String, SendError> {
        self.seen
            .lock()
            .unwrap()
            .push((item.key.clone(), txn_id.to_owned()));
        self.outcomes
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Ok(format!("$ev-{}", item.id)))
    }
}

async fn outbox() -> (tempfile::TempDir, Outbox) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(
        &format!("sqlite://{}/t.db?mode=rwc", dir.path().display()),
        1,
    )
    .await
    .unwrap();
    let o = Outbox::new(db, "WG <wg@example.org>".parse().unwrap(), "!mgmt")
        .await
        .unwrap();
    (dir, o)
}

fn policy() -> Policy {
    Policy {
        retry_for: Duration::from_secs(3600),
        min: Duration::from_millis(1),
        max: Duration::from_millis(1),
    }
}

async fn post(o: &Outbox, key: Key, room: &str, report: Report) {
    let mut tx = o.begin().await.unwrap();
    tx.matrix(
        key,
        MatrixOp::Send {
            room: room.into(),
            event_type: "m.room.message".into(),
            content: crate::chat::notice("hi"),
        },
        None,
        report,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
}

async fn states(o: &Outbox) -> Vec<(String, String)> {
    sqlx::query_as("SELECT key, state FROM outbox ORDER BY id")
        .fetch_all(&o.db().pool)
        .await
        .unwrap()
}

async fn drain(o: &Outbox, d: &Script, p: &Policy) {
    let cancel = CancellationToken::new();
    for _ in 0..50 {
        let pass = pass(o, d, p, &cancel).await.unwrap();
        if pass == Pass::default()
            && queue::next_due(o.db(), d.transport)
                .await
                .unwrap()
                .is_none()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
}

#[tokio::test]
async fn transient_failures_are_retried_until_sent_once() {
    let (_d, o) = outbox().await;
    post(&o, Key::Mail(1), "!room", Report::none()).await;
    let script = Script::new(
        Transport::Matrix,
        (0..12)
            .map(|i| Err(SendError::transient(format!("connection refused {i}"))))
            .collect(),
    );
    drain(&o, &script, &policy()).await;
    // Twelve failures (more than the old fixed limit), then the send: sent once.
    assert_eq!(script.seen().len(), 13);
    assert_eq!(states(&o).await, vec![("mail-1".into(), "sent".into())]);
    // The transaction id is the same on every attempt.
    let txns: std::collections::HashSet<_> = script
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|s| s.1.clone())
        .collect();
    assert_eq!(txns.len(), 1);
    let ev = queue::event_id_for(&o.db().pool, &Key::Mail(1))
        .await
        .unwrap();
    assert_eq!(ev.as_deref(), Some("$ev-1"));
    assert_eq!(
        queue::key_for_event(o.db(), "$ev-1").await.unwrap(),
        Some(Key::Mail(1))
    );
}

#[tokio::test]
async fn a_permanent_failure_fails_at_once_and_is_reported_in_both_places() {
    let (_d, o) = outbox().await;
    let mut tx = o.begin().await.unwrap();
    let mail = crate::mail::compose::OutMail {
        to: vec!["x@refused.test".into()],
        subject: "Re: hi".into(),
        text: "answer".into(),
        ..Default::default()
    };
    tx.mail(
        Key::Reply("$q".into()),
        &mail,
        Report::in_room("!group", Some("$root")),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let smtp = Script::new(
        Transport::Mail,
        vec![Err(SendError::permanent("550 5.1.1 mailbox unavailable"))],
    );
    drain(&o, &smtp, &policy()).await;
    assert_eq!(smtp.seen().len(), 1, "a permanent failure is not retried");
    let s = states(&o).await;
    assert_eq!(s[0], ("reply-$q".into(), "failed".into()));
    // The reports: in the management room and in the mail's thread.
    let matrix = Script::new(Transport::Matrix, vec![]);
    drain(&o, &matrix, &policy()).await;
    let mut seen = matrix.seen();
    seen.sort();
    assert_eq!(seen, vec!["failure-1", "failure-here-1"]);
    let (op,): (String,) = sqlx::query_as("SELECT op FROM outbox WHERE key = 'failure-here-1'")
        .fetch_one(&o.db().pool)
        .await
        .unwrap();
    assert!(op.contains("550 5.1.1") && op.contains("$root"), "{op}");
}

#[tokio::test]
async fn the_end_of_the_retry_period_fails_the_item() {
    let (_d, o) = outbox().await;
    post(&o, Key::Mail(1), "!room", Report::none()).await;
    let short = Policy {
        retry_for: Duration::from_millis(30),
        min: Duration::from_millis(10),
        max: Duration::from_millis(10),
    };
    let script = Script::new(
        Transport::Matrix,
        (0..100).map(|_| Err(SendError::transient("503"))).collect(),
    );
    for _ in 0..40 {
        pass(&o, &script, &short, &CancellationToken::new())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let s = states(&o).await;
    assert_eq!(s[0].1, "failed", "{s:?}");
    let (err,): (String,) = sqlx::query_as("SELECT last_error FROM outbox WHERE id = 1")
        .fetch_one(&o.db().pool)
        .await
        .unwrap();
    assert!(
        err.contains("still failing after") && err.contains("503"),
        "{err}"
    );
    assert!(s.iter().any(|(k, _)| k == "failure-1"));
}

#[tokio::test]
async fn a_waiting_item_holds_back_its_lane_but_not_others() {
    let (_d, o) = outbox().await;
    post(&o, Key::Mail(1), "!a", Report::none()).await;
    post(&o, Key::Mail(2), "!a", Report::none()).await;
    post(&o, Key::Mail(3), "!b", Report::none()).await;
    let slow = Policy {
        retry_for: Duration::from_secs(3600),
        min: Duration::from_secs(600),
        max: Duration::from_secs(600),
    };
    let script = Script::new(
        Transport::Matrix,
        vec![Err(SendError::Transient {
            reason: "M_LIMIT_EXCEEDED".into(),
            retry_after: Some(Duration::from_secs(900)),
        })],
    );
    pass(&o, &script, &slow, &CancellationToken::new())
        .await
        .unwrap();
    let s = states(&o).await;
    assert_eq!(s[0].1, "pending");
    assert_eq!(s[1].1, "pending", "mail-2 waits behind mail-1 in room !a");
    assert_eq!(s[2].1, "sent", "room !b is not held back");
    let (next,): (i64,) = sqlx::query_as("SELECT next_attempt_at FROM outbox WHERE id = 1")
        .fetch_one(&o.db().pool)
        .await
        .unwrap();
    assert!(next - now_ms() > 850_000, "retry_after is honoured");
}

#[tokio::test]
async fn a_failure_report_that_fails_is_not_reported_again() {
    let (_d, o) = outbox().await;
    post(&o, Key::Failure(99), "!mgmt", Report::none()).await;
    let script = Script::new(
        Transport::Matrix,
        vec![Err(SendError::permanent("M_FORBIDDEN"))],
    );
    drain(&o, &script, &policy()).await;
    assert_eq!(
        states(&o).await,
        vec![("failure-99".into(), "failed".into())]
    );
}

#[tokio::test]
async fn queueing_twice_and_retrying() {
    let (_d, o) = outbox().await;
    post(&o, Key::Mail(1), "!a", Report::none()).await;
    post(&o, Key::Mail(1), "!a", Report::none()).await;
    assert_eq!(states(&o).await.len(), 1, "one key, one item");
    let script = Script::new(
        Transport::Matrix,
        vec![Err(SendError::permanent("M_TOO_LARGE"))],
    );
    pass(&o, &script, &policy(), &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(queue::list(o.db(), true, 10).await.unwrap().len(), 1);
    let again = queue::retry(o.db(), Some(1)).await.unwrap();
    assert_eq!(again, vec![(1, Transport::Matrix)]);
    drain(&o, &script, &policy()).await;
    assert_eq!(states(&o).await[0].1, "sent");
    let depth = queue::depth(o.db()).await.unwrap();
    assert!(depth.iter().all(|d| d.1 == 0), "{depth:?}");
}

#[test]
fn backoff_doubles_up_to_the_cap() {
    let p = Policy {
        retry_for: Duration::from_secs(1),
        min: Duration::from_secs(2),
        max: Duration::from_secs(60),
    };
    assert_eq!(p.backoff(0), Duration::from_secs(2));
    assert_eq!(p.backoff(3), Duration::from_secs(16));
    assert_eq!(p.backoff(10), Duration::from_secs(60));
    assert_eq!(p.backoff(10_000), Duration::from_secs(60));
}

#[tokio::test]
async fn a_reply_recorded_as_sent_resolves_to_its_key_and_is_never_sent_by_the_runner() {
    let (_d, o) = outbox().await;
    let key = Key::Command("$cmd-1".into());
    let op = MatrixOp::Send {
        room: "!room".into(),
        event_type: "m.room.message".into(),
        content: crate::chat::notice("help"),
    };
    assert!(
        o.record_sent(key.clone(), op.clone(), "$reply-1")
            .await
            .unwrap()
    );
    // Recorded twice (a retried handler) or queued after it: still the one row.
    assert!(!o.record_sent(key.clone(), op, "$reply-2").await.unwrap());
    post(&o, key.clone(), "!room", Report::none()).await;
    let script = Script::new(Transport::Matrix, vec![]);
    drain(&o, &script, &policy()).await;
    assert!(script.seen().is_empty(), "{:?}", script.seen());
    assert_eq!(states(&o).await, vec![("cmd-$cmd-1".into(), "sent".into())]);
    assert_eq!(
        queue::key_for_event(o.db(), "$reply-1").await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(
        queue::posted(o.db(), &key).await.unwrap(),
        Some(("!room".into(), "$reply-1".into()))
    );
}
