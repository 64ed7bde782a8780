//! Two convene processes on one PostgreSQL database: the leader is SIGKILLed in the middle
//! of a burst of mail; the standby takes over; nothing is lost or doubled.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::helpers::{free_port, get, send_eoi};
use crate::support::{Backend, Options, TestApp, count_in, env, inbox, unique};

const WAIT: Duration = Duration::from_secs(90);

/// The second process: same configuration, its own state directory (so its own Matrix
/// device and store) and HTTP port.
struct Standby {
    child: Child,
    log: std::path::PathBuf,
}

impl Standby {
    fn start(app: &TestApp, port: u16) -> Standby {
        let log = app.dir.path().join("convene-b.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_convene"))
            .arg("--config")
            .arg(&app.config_path)
            .arg("run")
            .env_remove("RUST_LOG")
            .env("CONVENE__STATE_DIR", app.dir.path().join("state-b"))
            .env("CONVENE__HTTP__LISTEN", format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Standby { child, log }
    }
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Standby {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- standby log ----\n{}", self.log());
        }
    }
}

/// Says `command` in the management room; exactly one answer comes.
async fn answered_once(app: &TestApp, command: &str) {
    let asked = app.secretariat.say(&app.management, command).await;
    let answers = || {
        app.secretariat
            .matching(&app.management, "")
            .into_iter()
            .filter(|s| s.in_reply_to.as_deref() == Some(asked.as_str()))
            .count()
    };
    wait_until("an answer", Duration::from_secs(30), || answers() > 0).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(answers(), 1, "{command} answered more than once");
}

async fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ok() {
        assert!(Instant::now() < deadline, "{what} within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_takes_over_a_killed_leader_and_nothing_is_lost_or_doubled() {
    let port_a = free_port();
    let mut app = TestApp::spawn(Options {
        backend: Backend::Postgres,
        extra_config: format!(
            "[http]\nlisten = \"127.0.0.1:{port_a}\"\n[applications]\ncall = \"2026\"\n"
        ),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    app.wait_log("leading:", WAIT).await;
    let port_b = free_port();
    let standby = Standby::start(&app, port_b);
    wait_until("the standby synced", WAIT, || {
        standby.log().contains("answering from now on")
    })
    .await;
    let (status, ready) = get(&format!("http://127.0.0.1:{port_b}/readyz")).await;
    assert_eq!(status, 200, "a standby is ready without IMAP: {ready}");
    assert!(ready.contains(r#""leader":false"#), "{ready}");
    assert!(!standby.log().contains("leading:"));
    // Both processes see every command; it is answered once.
    answered_once(&app, "!help").await;

    // A burst of applications; the leader dies after the first few are on their way.
    let u = unique();
    let n = 12;
    let addresses: Vec<String> = (0..n)
        .map(|i| format!("ha{i}-{u}@applicant.test"))
        .collect();
    let mut killed_at = None;
    for (i, a) in addresses.iter().enumerate() {
        send_eoi(&app, a, &format!("Applicant {i}")).await;
        if i == 4 {
            // In the middle: wait until the leader has posted something of the burst.
            let first = &addresses[0];
            wait_until("the leader posted the first card", WAIT, || {
                !app.secretariat.matching(&app.management, first).is_empty()
            })
            .await;
            app.kill();
            killed_at = Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let killed_at = killed_at.unwrap();
    wait_until("the standby took over", Duration::from_secs(30), || {
        standby.log().contains("leading:")
    })
    .await;
    let takeover = killed_at.elapsed();

    // Every application: one card, one bridged mail, one acknowledgement — or, for a mail the
    // leader was handing to the server when it died, at most one and a report saying so.
    for a in &addresses {
        app.secretariat
            .wait_for(&app.management, a, WAIT, Duration::ZERO)
            .await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mails = inbox(&env("CATCHALL_USER"), &env("CATCHALL_PASSWORD")).await;
    let mut uncertain = 0;
    for a in &addresses {
        let seen: Vec<_> = [&app.management, &app.health, &app.digital]
            .into_iter()
            .flat_map(|room| app.secretariat.matching(room, a))
            .collect();
        let count = |prefix: &str| seen.iter().filter(|s| s.body.starts_with(prefix)).count();
        assert_eq!(
            count("**Expression of interest #"),
            1,
            "one card for {a}: {seen:#?}"
        );
        assert_eq!(count("✉"), 1, "one bridged mail for {a}: {seen:#?}");
        let reported = count("⚠ Could not mail") > 0;
        let acks = mails
            .iter()
            .filter(|m| {
                let head = String::from_utf8_lossy(&m[..m.len().min(4000)]).to_ascii_lowercase();
                head.contains(&format!("to: {a}")) || head.contains(&format!("<{a}>"))
            })
            .count();
        if reported {
            uncertain += 1;
            assert!(acks <= 1, "{acks} acknowledgements to {a}");
            println!("uncertain mail to {a}: delivered {acks} time(s), reported");
        } else {
            assert_eq!(acks, 1, "acknowledgements to {a}");
        }
    }
    // At most one per lane the SMTP runner sends at once (4).
    assert!(uncertain <= 4, "{uncertain} mails left uncertain");
    let (status, ready) = get(&format!("http://127.0.0.1:{port_b}/readyz")).await;
    assert_eq!(status, 200, "{ready}");
    assert!(ready.contains(r#""leader":true"#), "{ready}");
    answered_once(&app, "!eoi list").await;
    let (_, metrics) = get(&format!("http://127.0.0.1:{port_b}/metrics")).await;
    assert!(metrics.contains("\nconvene_leader 1\n"), "{metrics}");
    println!(
        "takeover {:?} after SIGKILL; standby found {} event(s) already posted; {uncertain} mail(s) left uncertain and reported",
        takeover,
        count_in(&standby.log(), "found in the room")
    );
    assert!(
        takeover <= Duration::from_secs(10),
        "takeover took {takeover:?}"
    );
}

/// The lease on PostgreSQL: one holder at a time, taken over only once expired (or given up),
/// a new term each time, and the old holder cannot renew the new term.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lease_has_one_holder_and_a_new_term_at_each_takeover() {
    use convene::lease;
    let app = TestApp::spawn(Options {
        backend: Backend::Postgres,
        ..Options::default()
    })
    .await;
    let db = convene::storage::Db::connect(&app.db_url, 2).await.unwrap();
    let t1 = lease::try_acquire(&db, "a")
        .await
        .unwrap()
        .expect("a free lease");
    assert_eq!(
        lease::try_acquire(&db, "a").await.unwrap(),
        Some(t1),
        "kept"
    );
    assert_eq!(
        lease::try_acquire(&db, "b").await.unwrap(),
        None,
        "held by a"
    );
    assert!(lease::renew(&db, "a", t1).await.unwrap());
    assert!(!lease::renew(&db, "b", t1).await.unwrap());
    // It expires by itself when a stops renewing …
    tokio::time::sleep(lease::TTL + Duration::from_millis(500)).await;
    let t2 = lease::try_acquire(&db, "b")
        .await
        .unwrap()
        .expect("expired");
    assert_eq!(t2, t1 + 1);
    assert!(!lease::renew(&db, "a", t1).await.unwrap(), "a lost it");
    assert_eq!(lease::try_acquire(&db, "a").await.unwrap(), None);
    // … and at once when given up.
    lease::release(&db, "b").await.unwrap();
    assert_eq!(lease::try_acquire(&db, "a").await.unwrap(), Some(t2 + 1));
    // Claims: one process handles each event.
    assert!(lease::claim(&db, "$ev").await.unwrap());
    assert!(!lease::claim(&db, "$ev").await.unwrap());
}
