//! The crash storm: mail flowing and commands being answered while the daemon is SIGKILLed
//! at random moments (start-up included) and restarted. Afterwards every mail is in its room
//! exactly once, every applicant has its acknowledgement (one message: a copy more than one
//! only as the same message resent after a kill between SMTP acceptance and its record, at
//! most one per kill — SMTP has no transaction id), and no command was answered twice.
//!
//! 5 kills over 150 mails here; the bench runs it with 20 kills over 1,000 mails
//! (`CONVENE_STORM_KILLS=20 CONVENE_STORM_MAILS=1000`). The seed of the random moments is
//! printed, and `CONVENE_STORM_SEED` replays it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;

use crate::support::{self, Options, TestApp, send_raw, unique};

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// xorshift64*: random moments without a dependency, replayable from the seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

fn eoi(name: &str) -> String {
    format!(
        "Dear Secretariat,\r\n\r\nName: {name}\r\nOrganisation: Regional Health Agency\r\n\
         Type of organisation: Public authority\r\nCountry: Spain\r\nWorking group: Health\r\n\
         Role: Core team member\r\nMotivation: we run regional public-health programmes and \
         would like to share our experience with other regions.\r\n\r\nBest regards,\r\n{name}\r\n"
    )
}

/// Mail `i` of the storm: every fifth an application (acknowledged), the others
/// correspondence; each with its marker in the subject.
async fn send(app_address: &str, domain: &str, tag: &str, i: u64) {
    let marker = format!("storm-{tag}-{i:04}");
    let (from, to, subject, body) = if i.is_multiple_of(5) {
        let from = format!("applicant{i}@{domain}");
        (
            from,
            app_address.replace('@', "+health@"),
            format!("Expression of interest {marker}"),
            eoi(&format!("Applicant {i}")),
        )
    } else {
        (
            format!("writer{i}@{domain}"),
            app_address.replace('@', "+digital@"),
            format!("Minutes {marker}"),
            "Please find the minutes attached.\r\n".to_owned(),
        )
    };
    let raw = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{marker}@{domain}>\r\n\
         Date: {}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}",
        chrono::Utc::now().to_rfc2822()
    );
    send_raw(&from, &to, raw.as_bytes()).await;
}

/// The acknowledgements in the catch-all mailbox to addresses of `domain`: by recipient, the
/// Message-ID of each copy.
async fn acks(domain: &str) -> HashMap<String, Vec<String>> {
    let cfg: convene::config::MailboxConfig = toml::from_str(&format!(
        "host = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\nuser = \"{}\"\nsecret = \"{}\"\naddress = \"x@x.test\"\n",
        support::env("IMAP_PORT"),
        support::env("CATCHALL_USER"),
        support::env("CATCHALL_PASSWORD"),
    ))
    .unwrap();
    let mut session = convene::bridge::imap::connect(&cfg).await.unwrap();
    session.select("INBOX").await.unwrap();
    let uids = session
        .uid_search(format!("TO \"@{domain}\""))
        .await
        .unwrap();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if !uids.is_empty() {
        let set: Vec<String> = uids.iter().map(u32::to_string).collect();
        let mut stream = session
            .uid_fetch(set.join(","), "BODY.PEEK[HEADER.FIELDS (TO MESSAGE-ID)]")
            .await
            .unwrap();
        while let Some(item) = stream.next().await {
            let item = item.unwrap();
            let head = String::from_utf8_lossy(item.header().or(item.body()).unwrap_or_default())
                .to_ascii_lowercase();
            let to = head
                .split(|c: char| c.is_whitespace() || c == '<' || c == '>')
                .find(|w| w.ends_with(&format!("@{domain}")))
                .map(str::to_owned);
            let id = head
                .lines()
                .find_map(|l| l.strip_prefix("message-id:"))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default();
            if let Some(to) = to {
                out.entry(to).or_default().push(id);
            }
        }
    }
    session.logout().await.ok();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_storm_loses_nothing_and_doubles_nothing() {
    let kills = knob("CONVENE_STORM_KILLS", 5);
    let mails = knob("CONVENE_STORM_MAILS", 150);
    let seed = knob("CONVENE_STORM_SEED", std::process::id() as u64 * 7919 + 1);
    eprintln!("crash storm: {kills} kills over {mails} mails, CONVENE_STORM_SEED={seed}");
    let mut rng = Rng(seed | 1);
    let mut app = TestApp::spawn(Options {
        // One acknowledgement per applicant: the hourly cap on automatic replies (100 by
        // default) is not what the storm is about, so it is raised to the mails sent.
        extra_config: format!(
            "[applications]\ncall = \"2026\"\nreplies_per_hour = {}\n",
            mails.max(100)
        ),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    let tag = unique();
    let domain = format!("storm-{tag}.test");

    // The mail, spread over the storm: about one kill per `mails / kills`.
    let pace = Duration::from_millis((kills * 5000 / mails.max(1)).clamp(20, 1000));
    let sender = {
        let (address, domain, tag) = (app.address.clone(), domain.clone(), tag.clone());
        tokio::spawn(async move {
            for i in 0..mails {
                send(&address, &domain, &tag, i).await;
                tokio::time::sleep(pace).await;
            }
        })
    };
    // Commands, asked all along (those asked while the bot is down are backlog: unanswered).
    let asked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let commander = {
        let room = app.secretariat.client.get_room(&app.digital).unwrap();
        let asked = asked.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(r) = room
                    .send(RoomMessageEventContent::text_plain("!help"))
                    .await
                {
                    asked.lock().unwrap().push(r.response.event_id.to_string());
                }
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
        })
    };

    let mut ready_before_last_start = 0;
    for k in 0..kills {
        // Up for 0.5–5 s: some kills land in start-up, some mid-fetch or mid-send.
        tokio::time::sleep(Duration::from_millis(500 + rng.below(4500))).await;
        app.kill();
        eprintln!("crash storm: kill {} of {kills}", k + 1);
        ready_before_last_start = support::count_in(&app.log(), "answering from now on");
        app.start(None);
    }
    sender.await.unwrap();
    // The last start may not be ready yet: wait for it to be. (A start killed before it got
    // ready never says so, so count from the last start, not the number of starts.)
    let deadline = Instant::now() + Duration::from_secs(60);
    while support::count_in(&app.log(), "answering from now on") <= ready_before_last_start {
        assert!(Instant::now() < deadline, "not ready after the storm");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Every mail in its room.
    let marker = |i: u64| format!("storm-{tag}-{i:04}");
    // An application is bridged to the management room only (its group room gets a notice
    // without contact data); correspondence to its group's room.
    let room_of = |i: u64| {
        if i.is_multiple_of(5) {
            &app.management
        } else {
            &app.digital
        }
    };
    // The bridged mail's own post (not the card, which quotes the subject too).
    let posts = |i: u64| -> Vec<support::Seen> {
        app.secretariat
            .matching(room_of(i), &marker(i))
            .into_iter()
            .filter(|s| s.body.starts_with('✉'))
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(60 + mails / 5);
    loop {
        let missing: Vec<u64> = (0..mails).filter(|&i| posts(i).is_empty()).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} mails never arrived, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    commander.abort();
    tokio::time::sleep(crate::SETTLE).await;
    for i in 0..mails {
        let got = posts(i);
        assert_eq!(got.len(), 1, "mail {i} posted {} times: {got:?}", got.len());
    }

    // Every acknowledgement once.
    let applicants = mails.div_ceil(5) as usize;
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut got = acks(&domain).await;
    while got.len() < applicants {
        assert!(
            Instant::now() < deadline,
            "{} of {applicants} acknowledgements arrived",
            got.len()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        got = acks(&domain).await;
    }
    tokio::time::sleep(crate::SETTLE).await;
    let got = acks(&domain).await;
    assert_eq!(got.len(), applicants, "{got:?}");
    // A copy more than one is the same message sent again (its Message-ID is fixed by its
    // key), after a kill that fell between the SMTP server's acceptance and the outbox's
    // record of it: SMTP has no transaction id to make that resend a no-op, so each such
    // kill may double one mail, never more, and never a second, different acknowledgement.
    let mut resent = 0;
    for (to, ids) in &got {
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(
            distinct.len(),
            1,
            "{to} got different acknowledgements: {ids:?}"
        );
        resent += ids.len() - 1;
    }
    assert!(
        resent <= kills as usize,
        "{resent} acknowledgements resent after {kills} kills: {got:?}"
    );
    // No command answered twice; and the bot did answer between the kills.
    let asked = asked.lock().unwrap().clone();
    let replies = app.secretariat.matching(&app.digital, "");
    let mut answers: HashMap<&str, usize> = HashMap::new();
    for r in &replies {
        if let Some(to) = r.in_reply_to.as_deref() {
            *answers.entry(to).or_default() += 1;
        }
    }
    let doubled: Vec<_> = answers.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "commands answered twice: {doubled:?}");
    let answered = asked
        .iter()
        .filter(|a| answers.contains_key(a.as_str()))
        .count();
    assert!(answered > 0, "no command of {} was answered", asked.len());
    eprintln!(
        "crash storm: {mails} mails once each in their rooms, {applicants} acknowledgements \
         ({resent} resent as the same message after a kill in the SMTP window), \
         {answered} of {} commands answered (none twice)",
        asked.len()
    );
}
