//! The in-process half of `scripts/bench.sh` (the black-box half is `scripts/bench/bench.py`).
//!
//! - `bench corpus DIR N`: writes N generated mails into the Maildir `DIR` (its `new/`), for
//!   the backlog figure.
//! - `bench pipeline N`: mail-parser's raw parse rate over a generated corpus of N mails,
//!   then the pure stages ([`decide`]) alone, then the whole pipeline — stored as the IMAP
//!   worker stores, then parse + classify + extract + store with the real [`Pipeline`] on a
//!   fresh SQLite database — and prints one JSON line of figures.
//!
//! The corpus is made from the test fixtures (`tests/fixtures/{eoi,bridge,auto}`: their
//! shapes, sizes and languages), each copy with its own Message-ID and sender, some with a
//! long quoted history appended, so 10,000 files are generated rather than committed.
//! Benchmarks are figures, not tests: nothing here asserts.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use convene::bridge::inbound::{self, Fetched};
use convene::bridge::pipeline::{Pipeline, decide};
use convene::config::Config;
use convene::mail::route::Routing;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

fn fixtures() -> anyhow::Result<Vec<Vec<u8>>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out = Vec::new();
    for dir in ["eoi", "bridge", "auto"] {
        let mut names: Vec<PathBuf> = std::fs::read_dir(root.join(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        for p in names {
            out.push(std::fs::read(p)?);
        }
    }
    anyhow::ensure!(!out.is_empty(), "no fixtures under {}", root.display());
    Ok(out)
}

/// Copy `i` of a fixture: a Message-ID of its own, a sender of its own (so each application
/// is a new applicant), and for every seventh single-part mail a long quoted history.
fn variant(base: &[u8], i: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(base);
    let (head, body) = match text.find("\r\n\r\n").or_else(|| text.find("\n\n")) {
        Some(at) => text.split_at(at),
        None => (text.as_ref(), ""),
    };
    let multipart = head.to_ascii_lowercase().contains("multipart/");
    let mut bytes = rebuild(head, body, i);
    if !multipart && i.is_multiple_of(7) {
        bytes.extend_from_slice(b"\r\n\r\nOn an earlier day, someone wrote:\r\n");
        for n in 0..(40 + i % 400) {
            bytes.extend_from_slice(
                format!("> line {n} of the quoted history, kept in the mail as clients do\r\n")
                    .as_bytes(),
            );
        }
    }
    bytes
}

/// The mail again: a new Message-ID first, the header without the old one and with the
/// sender varied, an empty line, the body as it was.
fn rebuild(head: &str, body: &str, i: usize) -> Vec<u8> {
    let mut out = format!("Message-ID: <bench-{i}@corpus.test>\r\n");
    let mut skipping = false;
    for line in head.lines() {
        let folded = line.starts_with(' ') || line.starts_with('\t');
        if folded && skipping {
            continue;
        }
        let lower = line.to_ascii_lowercase();
        skipping = lower.starts_with("message-id:");
        if skipping {
            continue;
        }
        if lower.starts_with("from:") {
            out.push_str(&line.replacen('@', &format!("+b{i}@"), 1));
        } else {
            out.push_str(line);
        }
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let body = body
        .strip_prefix("\r\n\r\n")
        .or_else(|| body.strip_prefix("\n\n"))
        .unwrap_or(body);
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body.as_bytes());
    bytes
}

fn corpus(n: usize) -> anyhow::Result<Vec<Vec<u8>>> {
    let base = fixtures()?;
    Ok((0..n).map(|i| variant(&base[i % base.len()], i)).collect())
}

fn write_maildir(dir: &Path, n: usize) -> anyhow::Result<()> {
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(dir.join(sub))?;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    for (i, mail) in corpus(n)?.into_iter().enumerate() {
        let name = format!("{now}.M{i:06}P{}.bench", std::process::id());
        std::fs::write(dir.join("tmp").join(&name), &mail)?;
        std::fs::rename(dir.join("tmp").join(&name), dir.join("new").join(&name))?;
    }
    Ok(())
}

const CONFIG: &str = r#"
state_dir = "STATE"
[matrix]
homeserver = "http://127.0.0.1:1"
user = "@bench:localhost"
secret = "unused"
management_room = "!management:localhost"
admins = ["@secretariat:localhost"]
[mailbox]
host = "127.0.0.1"
user = "bench"
secret = "unused"
address = "working-groups@htp.example"
[smtp]
host = "127.0.0.1"
from = "Working Groups <working-groups@htp.example>"
[database]
url = "sqlite://STATE/bench.db?mode=rwc"
[[groups]]
slug = "digital"
name = "Digital"
room = "!digital:localhost"
[[groups]]
slug = "health"
name = "Health"
aliases = ["Gesundheit", "Santé", "Salud", "Salute"]
room = "!health:localhost"
[[groups]]
slug = "research-innovation"
name = "Research & Innovation"
aliases = ["R&I"]
room = "!ri:localhost"
[[groups]]
slug = "territorial"
name = "Territorial"
room = "!territorial:localhost"
"#;

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

async fn pipeline(n: usize) -> anyhow::Result<()> {
    let mails = corpus(n)?;
    let bytes: usize = mails.iter().map(Vec::len).sum();

    // Raw parse, as often as it takes to last a second (a steadier figure).
    let parser = mail_parser::MessageParser::default();
    let started = Instant::now();
    let mut rounds = 0;
    let mut parsed = 0usize;
    while rounds == 0 || started.elapsed() < Duration::from_secs(1) {
        for m in &mails {
            if parser.parse(m).is_some() {
                parsed += 1;
            }
        }
        rounds += 1;
    }
    let raw = rate(n * rounds, started.elapsed());

    let dir = std::env::temp_dir().join(format!("convene-bench-pipeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let text = CONFIG.replace("STATE", &dir.display().to_string());
    let config = Config::from_toml(&text, std::iter::empty())?;
    let parts = convene::daemon::Parts::build(&config).await?;
    let routing = Routing::from_config(&config);

    // The pure stages alone.
    let started = Instant::now();
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for (i, m) in mails.iter().enumerate() {
        let kind = match decide(&routing, &parts.apps.s, "htp.example", i as i64, m) {
            Ok(d) => d.kind.as_str(),
            Err(_) => "unparseable",
        };
        *kinds.entry(kind).or_default() += 1;
    }
    let pure = rate(n, started.elapsed());

    // Stored as the IMAP worker stores each fetched mail.
    let started = Instant::now();
    for (i, m) in mails.iter().enumerate() {
        inbound::store(
            &parts.db,
            Fetched {
                mailbox: "INBOX",
                uidvalidity: 1,
                uid: i as u32 + 1,
                size: m.len() as u32,
                raw: Some(m.clone()),
                oversized: false,
            },
        )
        .await?;
    }
    let stored = rate(n, started.elapsed());

    // The pipeline drains them: parse + classify + extract + store (post, EoI, ack, card).
    let cancel = CancellationToken::new();
    let p = Pipeline {
        db: parts.db.clone(),
        outbox: parts.outbox.clone(),
        apps: parts.apps.clone(),
        calendar: parts.calendar.clone(),
        routing: Arc::new(routing),
        bridge: Arc::new(config.bridge.clone()),
        wake: Arc::new(Notify::new()),
        metrics: convene::metrics::Metrics::default(),
    };
    let started = Instant::now();
    let worker = tokio::spawn(p.run(cancel.clone()));
    loop {
        let (left,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM inbound_mail WHERE state = 'new'")
                .fetch_one(&parts.db.pool)
                .await?;
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let full = rate(n, started.elapsed());
    cancel.cancel();
    let _ = worker.await;
    let (queued,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox")
        .fetch_one(&parts.db.pool)
        .await?;
    let out = serde_json::json!({
        "mails": n,
        "bytes": bytes,
        "parsed": parsed / rounds.max(1),
        "kinds": kinds,
        "raw_parse_per_s": raw,
        "decide_per_s": pure,
        "store_per_s": stored,
        "pipeline_per_s": full,
        "outbox_items": queued,
    });
    println!("{out}");
    parts.db.pool.close().await;
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count = |i: usize| -> anyhow::Result<usize> {
        Ok(args
            .get(i)
            .map(|s| s.parse())
            .transpose()?
            .unwrap_or(10_000))
    };
    match args.first().map(String::as_str) {
        Some("corpus") => {
            let dir = args
                .get(1)
                .ok_or_else(|| anyhow::anyhow!("bench corpus DIR [N]"))?;
            write_maildir(Path::new(dir), count(2)?)
        }
        Some("pipeline") => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(pipeline(count(1)?)),
        _ => anyhow::bail!("usage: bench corpus DIR [N] | bench pipeline [N]"),
    }
}
