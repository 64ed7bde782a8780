//! Fuzzing on stable: a property test over the whole pure mail path.
//!
//! Each case is raw bytes that go through everything convene does with a mail before any I/O:
//! `mail_parser` → automatic-mail detection → the EoI extractor → the room rendering → routing
//! → sender identity and trust → whose application it is and its card → the escaping of every
//! extracted value, rendered through matrix-sdk's own Markdown renderer. Nothing may panic,
//! and the invariants must hold: no markup from the mail survives, no mention stays live, the
//! words stay readable, a mail is its sender's own application only when its From aligns
//! with its envelope, and a card has no link and stays under the size budget.
//!
//! Inputs are grown from a corpus, not from noise: every `.eml` under `tests/fixtures/`
//! (the EoI and automatic-mail goldens, and the `fuzz/` seeds with authentication headers and
//! hostile form values), mutated by byte flips, insertions, truncation, header duplication
//! and injection, huge header lines, bogus charsets, nested and deeply nested MIME, and
//! bodies swapped between seeds.
//!
//! # Running time
//! `CONVENE_FUZZ_SECS` sets the budget in seconds (default: 30 when `CI` is set, else 5), so
//! `cargo test --all-targets` stays fast and a long local run is one variable away:
//! `CONVENE_FUZZ_SECS=600 cargo test --test fuzz_mail -- --nocapture`.
//!
//! # When a case fails
//! proptest shrinks it and the test panics with the recipe (seed file and mutations) and the
//! bytes, escaped; the bytes are also written to `target/tmp/fuzz_mail-failure.eml`. The
//! case's seed goes to `tests/fuzz_mail.proptest-regressions` (commit it), and every later run
//! replays it first. An input found this way is kept under `tests/fixtures/fuzz/found/`, where
//! it also seeds later runs.
//!
//! # Known and tolerated
//! mail-parser 0.11.9 trips its own `debug_assert!`s on some nested `message/rfc822`
//! structures (`found/mail-parser-debug-assert-nested-rfc822.eml`, a forward of a forward):
//! in a debug build such a case is counted and skipped, see [`parse`]. Release builds are
//! unaffected and tolerate nothing.

use std::fmt;
use std::fs;
use std::panic::catch_unwind;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use convene::applications::extract::{Application, ExtractConfig, GroupNames, extract};
use convene::applications::{Settings, card, intake, store};
use convene::config::{Config, EXAMPLE};
use convene::mail::trust::{self, Alignment, Envelope, Verdict};
use convene::mail::{automatic, render, route};
use convene::markup;
use mail_parser::{Message, MessageParser, MimeHeaders};
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{
    Config as RunnerConfig, FileFailurePersistence, TestError, TestRunner,
};

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fuzz_mail.proptest-regressions"
);

/// Cases per runner; the budget is checked between batches.
const BATCH: u32 = 32;

fn budget() -> Duration {
    let default = if std::env::var_os("CI").is_some() {
        30
    } else {
        5
    };
    let secs = std::env::var("CONVENE_FUZZ_SECS")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(default);
    Duration::from_secs(secs)
}

/// One seed of the corpus.
struct Seed {
    name: String,
    bytes: Vec<u8>,
}

static CORPUS: LazyLock<Arc<Vec<Seed>>> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = Vec::new();
    collect_eml(&root, &mut files);
    files.sort();
    let seeds: Vec<Seed> = files
        .iter()
        .map(|path| Seed {
            name: path
                .strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string(),
            bytes: fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        })
        .collect();
    assert!(seeds.len() > 20, "corpus too small: {}", seeds.len());
    Arc::new(seeds)
});

fn collect_eml(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect_eml(&path, out);
        } else if path.extension().is_some_and(|e| e == "eml") {
            out.push(path);
        }
    }
}

static EXTRACT: LazyLock<ExtractConfig> = LazyLock::new(|| {
    let group = |slug: &str, name: &str| GroupNames {
        slug: slug.to_string(),
        names: vec![name.to_string()],
    };
    let mut cfg = ExtractConfig::with_default_aliases(vec![
        group("digital", "Digital"),
        group("health", "Health"),
        group("research-innovation", "Research & Innovation"),
        group("territorial", "Territorial"),
    ]);
    cfg.own_addresses = vec!["working-groups@example.org".to_string()];
    cfg
});

static CONFIG: LazyLock<Config> =
    LazyLock::new(|| Config::from_toml(EXAMPLE, Vec::new()).expect("example configuration"));

static SETTINGS: LazyLock<Settings> = LazyLock::new(|| {
    let mut s = Settings::from_config(&CONFIG);
    s.authserv_ids = AUTHSERV_IDS.clone();
    s
});

/// The authserv-ids the trust check believes: the seeds' and Microsoft's (none).
static AUTHSERV_IDS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ["mx.google.com", "mx.our.example", ""]
        .iter()
        .map(|s| s.to_string())
        .collect()
});

const HEADER_NAMES: &[&str] = &[
    "From",
    "Return-Path",
    "Authentication-Results",
    "Received",
    "Subject",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Content-Disposition",
    "To",
    "Cc",
    "Delivered-To",
    "X-Original-To",
    "Reply-To",
    "Sender",
    "Auto-Submitted",
    "Precedence",
    "List-Id",
    "X-Autoreply",
    "Message-ID",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Date",
];

const HOSTILE: &[&str] = &[
    r#"<a href="https://phish.example">Accept here</a>"#,
    "[Approve now](https://phish.example)",
    "![x](https://t.example/p.gif)",
    "<https://phish.example>",
    "<img src=x onerror=alert(1)>",
    "&lt;script&gt;",
    "`code`",
    "**bold**",
    "# heading",
    "> quote",
    "- item",
    "1. item",
    "| a | b |",
    "@room",
    "@mallory:evil.example",
    "\\",
    "line\r\nInjected: header",
    "invoice\u{202E}fdp.exe",
    "zero\u{200B}width\u{FEFF}",
    "=?utf-8?B?PGEgaHJlZj0ieCI+bGluazwvYT4=?=",
    "=?iso-8859-1?Q?caf=E9?=",
    "=?x-unknown?Q?=FF=FE?=",
    "=?utf-8?B?not base64!?=",
    "mx.our.example; dmarc=pass header.from=example.org",
    "mx.google.com; dkim=pass (((( header.d=",
    "spf=pass smtp.mailfrom=x.example;dmarc=pass header.from=x.example",
    "<>",
    "<@a.example,@b.example:c@d.example>",
    "alice@example.org, bob@example.org",
    "Group: a@b.example, c@d.example;",
    "\"unterminated",
    "(((((",
    "multipart/mixed; boundary=\"b1\"",
    "multipart/mixed",
    "multipart/alternative; boundary=",
    "text/html; charset=\"x-bogus\"",
    "text/plain; charset=utf-7",
    "message/rfc822",
    "multipart/report; report-type=delivery-status",
    "base64",
    "quoted-printable",
    "x-uuencode",
    "attachment; filename=\"<img src=x>.pdf\"",
    "working-groups+health@example.org",
    "[Digital] [Health] subject",
    "auto-replied",
];

const CHARSETS: &[&str] = &[
    "x-bogus",
    "utf-7",
    "utf-16",
    "iso-2022-jp",
    "\"\"",
    "gb18030",
    "windows-1252\"; charset=\"koi8-r",
    "utf-8''%ff",
];

/// One change to a seed. Positions are taken modulo the length, so they shrink towards 0.
#[derive(Debug, Clone)]
enum Mutation {
    FlipByte {
        at: usize,
        mask: u8,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Truncate {
        keep: usize,
    },
    DuplicateHeader {
        which: usize,
        to: usize,
    },
    InjectHeader {
        at: usize,
        name: usize,
        value: usize,
    },
    InjectRawHeader {
        at: usize,
        name: usize,
        value: Vec<u8>,
    },
    HugeHeaderLine {
        len: usize,
        folded: bool,
    },
    Charset {
        which: usize,
    },
    NestMime {
        depth: usize,
    },
    DeepNesting {
        depth: usize,
        rfc822: bool,
    },
    HostileFields {
        value: usize,
    },
    SwapBody {
        other: usize,
    },
    Noise {
        bytes: Vec<u8>,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 1..=255u8).prop_map(|(at, mask)| Mutation::FlipByte { at, mask }),
        2 => (any::<usize>(), vec(any::<u8>(), 1..64))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        2 => any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        2 => (any::<usize>(), any::<usize>())
            .prop_map(|(which, to)| Mutation::DuplicateHeader { which, to }),
        4 => (any::<usize>(), 0..HEADER_NAMES.len(), 0..HOSTILE.len())
            .prop_map(|(at, name, value)| Mutation::InjectHeader { at, name, value }),
        1 => (any::<usize>(), 0..HEADER_NAMES.len(), vec(any::<u8>(), 0..80))
            .prop_map(|(at, name, value)| Mutation::InjectRawHeader { at, name, value }),
        1 => (1..200_000usize, any::<bool>())
            .prop_map(|(len, folded)| Mutation::HugeHeaderLine { len, folded }),
        1 => (0..CHARSETS.len()).prop_map(|which| Mutation::Charset { which }),
        1 => (1..8usize).prop_map(|depth| Mutation::NestMime { depth }),
        1 => (8..300usize, any::<bool>())
            .prop_map(|(depth, rfc822)| Mutation::DeepNesting { depth, rfc822 }),
        3 => (0..HOSTILE.len()).prop_map(|value| Mutation::HostileFields { value }),
        1 => any::<usize>().prop_map(|other| Mutation::SwapBody { other }),
        1 => vec(any::<u8>(), 0..512).prop_map(|bytes| Mutation::Noise { bytes }),
    ]
}

/// A generated mail: how it was made, and its bytes.
#[derive(Clone)]
struct Input {
    seed: String,
    mutations: Vec<Mutation>,
    bytes: Vec<u8>,
}

/// Short, since proptest writes it into the regressions file: the recipe and the first bytes.
/// The panic message of a failure carries all of them.
impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = &self.bytes[..self.bytes.len().min(200)];
        write!(
            f,
            "seed {} with {:?}, {} bytes starting b\"{}\"",
            self.seed,
            self.mutations,
            self.bytes.len(),
            head.escape_ascii()
        )
    }
}

fn input() -> impl Strategy<Value = Input> {
    let corpus = CORPUS.clone();
    (0..corpus.len(), vec(mutation(), 0..6)).prop_map(move |(index, mutations)| {
        let mut bytes = corpus[index].bytes.clone();
        for m in &mutations {
            apply(&mut bytes, m, &corpus);
        }
        Input {
            seed: corpus[index].name.clone(),
            mutations,
            bytes,
        }
    })
}

/// Where the header ends (the index of the empty line's first byte) and where the body starts.
fn header_end(bytes: &[u8]) -> (usize, usize) {
    for (i, w) in bytes.windows(2).enumerate() {
        if w == b"\n\n" {
            return (i + 1, i + 2);
        }
        if w == b"\n\r" && bytes.get(i + 2) == Some(&b'\n') {
            return (i + 1, i + 3);
        }
    }
    (bytes.len(), bytes.len())
}

/// Start offsets of the header fields (a field runs to the next start, folding included).
fn field_starts(bytes: &[u8]) -> Vec<usize> {
    let (end, _) = header_end(bytes);
    let mut starts = vec![0];
    for i in 0..end {
        if bytes[i] == b'\n' && i + 1 < end && !matches!(bytes[i + 1], b' ' | b'\t' | b'\r' | b'\n')
        {
            starts.push(i + 1);
        }
    }
    starts.push(end);
    starts
}

fn insert_field(bytes: &mut Vec<u8>, at: usize, field: &[u8]) {
    let starts = field_starts(bytes);
    let pos = starts[at % starts.len()];
    bytes.splice(pos..pos, field.iter().copied());
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation, corpus: &[Seed]) {
    match m {
        Mutation::FlipByte { at, mask } => {
            if !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] ^= mask;
            }
        }
        Mutation::Insert { at, bytes: extra } => {
            let pos = at % (bytes.len() + 1);
            bytes.splice(pos..pos, extra.iter().copied());
        }
        Mutation::Truncate { keep } => bytes.truncate(keep % (bytes.len() + 1)),
        Mutation::DuplicateHeader { which, to } => {
            let starts = field_starts(bytes);
            if starts.len() > 1 {
                let i = which % (starts.len() - 1);
                let field = bytes[starts[i]..starts[i + 1]].to_vec();
                insert_field(bytes, *to, &field);
            }
        }
        Mutation::InjectHeader { at, name, value } => {
            let field = format!("{}: {}\r\n", HEADER_NAMES[*name], HOSTILE[*value]);
            insert_field(bytes, *at, field.as_bytes());
        }
        Mutation::InjectRawHeader { at, name, value } => {
            let mut field = format!("{}: ", HEADER_NAMES[*name]).into_bytes();
            field.extend(value);
            field.extend(b"\r\n");
            insert_field(bytes, *at, &field);
        }
        Mutation::HugeHeaderLine { len, folded } => {
            let mut field = b"Subject: ".to_vec();
            for i in 0..*len {
                if *folded && i % 70 == 69 {
                    field.extend(b"\r\n ");
                }
                field.push(b"ab<[@`*"[i % 7]);
            }
            field.extend(b"\r\n");
            bytes.splice(0..0, field);
        }
        Mutation::Charset { which } => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let bad = format!("charset={};x=", CHARSETS[*which]);
            let replaced = text.replace("charset=", &bad);
            *bytes = if replaced == text {
                let mut b = format!("Content-Type: text/plain; {bad}1\r\n").into_bytes();
                b.append(bytes);
                b
            } else {
                replaced.into_bytes()
            };
        }
        Mutation::NestMime { depth } => nest(bytes, *depth, false),
        Mutation::DeepNesting { depth, rfc822 } => nest(bytes, *depth, *rfc822),
        Mutation::HostileFields { value } => {
            let v = HOSTILE[*value];
            let fields = format!(
                "\r\nName: {v}\r\nOrganisation: {v}\r\nCountry: {v}\r\nRegion: {v}\r\n\
                 Working group: Health\r\nRole: Member\r\nMatrix id: {v}\r\n\
                 Motivation: {v} and enough ordinary words to count as the motivation of an \
                 applicant, {v}, in more than one hundred characters.\r\n"
            );
            bytes.extend(fields.as_bytes());
        }
        Mutation::SwapBody { other } => {
            let donor = &corpus[other % corpus.len()].bytes;
            let (_, body) = header_end(donor);
            let (end, _) = header_end(bytes);
            bytes.truncate(end);
            bytes.extend(b"\r\n");
            bytes.extend(&donor[body..]);
        }
        Mutation::Noise { bytes: noise } => *bytes = noise.clone(),
    }
}

/// Wraps the message's content in `depth` levels of multipart/mixed (or message/rfc822).
fn nest(bytes: &mut Vec<u8>, depth: usize, rfc822: bool) {
    let (_, body_start) = header_end(bytes);
    let starts = field_starts(bytes);
    let mut outer = Vec::new();
    let mut content = Vec::new();
    for pair in starts.windows(2) {
        let field = &bytes[pair[0]..pair[1]];
        if field.len() >= 8 && field[..8].eq_ignore_ascii_case(b"content-") {
            content.extend(field);
        } else {
            outer.extend(field);
        }
    }
    let mut inner = content;
    inner.extend(b"\r\n");
    inner.extend(&bytes[body_start.min(bytes.len())..]);
    for level in 0..depth {
        let mut wrapped = if rfc822 {
            b"Content-Type: message/rfc822\r\n\r\n".to_vec()
        } else {
            format!("Content-Type: multipart/mixed; boundary=\"n{level}\"\r\n\r\n--n{level}\r\n")
                .into_bytes()
        };
        wrapped.extend(&inner);
        if !rfc822 {
            wrapped.extend(format!("\r\n--n{level}--\r\n").as_bytes());
        }
        inner = wrapped;
    }
    outer.extend(b"MIME-Version: 1.0\r\n");
    outer.extend(inner);
    *bytes = outer;
}

/// Cases skipped because `mail_parser` itself panicked (see [`parse`]).
static PARSER_PANICS: AtomicU64 = AtomicU64::new(0);

/// `MessageParser::parse`, tolerating one known fault of the dependency: mail-parser 0.11.9
/// has `debug_assert!`s in its MIME state machine that fire on some nested `message/rfc822`
/// structures — a forward of a forward attached to a multipart mail is enough
/// (`tests/fixtures/fuzz/found/mail-parser-debug-assert-nested-rfc822.eml`). Release builds
/// compile them out and parse the mail; a debug build panics inside `parse`, before any code
/// of ours runs. Such a case is counted and skipped. In a release build (`cargo test
/// --release`) nothing is tolerated.
fn parse(bytes: &[u8]) -> Result<Option<Message<'_>>, TestCaseError> {
    match catch_unwind(|| MessageParser::default().parse(bytes)) {
        Ok(msg) => Ok(msg),
        Err(_) if cfg!(debug_assertions) => {
            PARSER_PANICS.fetch_add(1, Ordering::Relaxed);
            Ok(None)
        }
        Err(panic) => Err(TestCaseError::fail(format!(
            "mail_parser panicked: {:?}",
            panic.downcast_ref::<&str>()
        ))),
    }
}

/// Runs the whole pure path on `bytes` and checks the invariants.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let Some(msg) = parse(bytes)? else {
        return Ok(());
    };
    let auto = automatic::detect_with_sender(&msg, None);
    let app = extract(&msg, &EXTRACT);
    let note = auto.as_ref().map(ToString::to_string);
    let event = render::mail_event(&msg, 1, note.as_deref());
    let html = event["formatted_body"].as_str().unwrap_or_default();
    // A mail's own HTML keeps its https/mailto links (the bridge shows them), nothing else:
    // no script, style, frame, remote image, or link of another scheme.
    for tag in [
        "<img", "<script", "<iframe", "<style", "<form", "<object", "<svg",
    ] {
        prop_assert!(!html.contains(tag), "{tag} in the room rendering: {html}");
    }
    for (i, _) in html.match_indices("<a") {
        let rest = &html[i..];
        let ok = rest.starts_with("<a href=\"https://")
            || rest.starts_with("<a href=\"http://")
            || rest.starts_with("<a href=\"mailto:");
        prop_assert!(ok, "a link of another kind in the room rendering: {html}");
    }
    let r = route::route(&msg, &CONFIG);
    prop_assert!(!r.room.is_empty());
    if let Some(g) = &r.group {
        prop_assert!(CONFIG.group(g).is_some(), "route to unknown group {g}");
    }

    let t = trust::assess(&msg, &AUTHSERV_IDS);
    prop_assert_eq!(t.results.is_none(), t.verdict == Verdict::Unknown);
    if t.verdict.is_verified() {
        prop_assert!(
            t.identity.from.is_some(),
            "verified without a From: {:?}",
            t
        );
    }
    if t.identity.alignment == Alignment::Exact {
        match (&t.identity.from, &t.identity.envelope) {
            (Some(f), Envelope::Address(e)) => prop_assert!(f.same_address(e)),
            other => prop_assert!(false, "exact alignment of {other:?}"),
        }
    }
    if matches!(t.identity.envelope, Envelope::Null | Envelope::Missing) {
        prop_assert_eq!(t.identity.alignment, Alignment::Unaligned);
    }
    for (name, value) in msg.headers_raw() {
        if name.eq_ignore_ascii_case("Authentication-Results")
            && let Some(ar) = trust::parse_authentication_results(value)
        {
            for result in &ar.results {
                prop_assert!(!result.method.is_empty() && !result.result.is_empty());
            }
        }
    }

    for value in values_from(&msg, &app, &t) {
        check_escaping(&value)?;
    }
    check_intake(&msg, &t)?;
    Ok(())
}

/// Whose application the mail is, and its card.
fn check_intake(msg: &Message, t: &trust::Trust) -> Result<(), TestCaseError> {
    let Some(p) = intake::prepare(&SETTINGS, msg) else {
        return Ok(());
    };
    if p.owner.is_empty() {
        // The sender's own application: its address is the From, aligned with the envelope.
        let from = t
            .identity
            .from
            .as_ref()
            .map(|f| f.to_string().to_lowercase());
        prop_assert!(
            t.identity.alignment.is_aligned(),
            "own without alignment: {t:?}"
        );
        prop_assert_eq!(from.as_deref(), Some(p.email.as_str()));
    }
    if let Some(to) = &p.reply_to {
        let from = t
            .identity
            .from
            .as_ref()
            .map(|f| f.to_string().to_lowercase());
        prop_assert_eq!(
            Some(to),
            from.as_ref(),
            "a reply to another than the aligned From"
        );
        prop_assert!(t.identity.alignment.is_aligned());
    }
    let e = store::Eoi {
        id: 1,
        call_key: "default".into(),
        email: p.email.clone(),
        owner: p.owner.clone(),
        status: "incomplete".into(),
        record: p.app.clone(),
        reply_to: p.reply_to.clone().unwrap_or_default(),
        message_id: None,
        group_slug: None,
        decided_role: None,
        decisions: 0,
        last_ack_at: None,
        created_at: 0,
        updated_at: 0,
        submitted_by: None,
        contact: p.contact.clone(),
        sender_auth: Some(p.auth.clone()),
        joined_into: None,
    };
    let content = card::content(&SETTINGS, &e, "Expression of interest", true, &[]);
    let size = serde_json::to_vec(&content).map_or(usize::MAX, |v| v.len());
    prop_assert!(
        size <= convene::outbox::size::BUDGET,
        "a card of {size} bytes"
    );
    let html = content["formatted_body"].as_str().unwrap_or_default();
    let allowed = ["p", "br", "strong", "code", "ul", "li", "blockquote"];
    prop_assert!(
        visible(html, &allowed).is_some(),
        "a tag from the mail in the card: {html}"
    );
    let body = content["body"].as_str().unwrap_or_default();
    prop_assert!(!live_mention(body), "live mention in the card: {body}");
    Ok(())
}

/// Every value the bot could show from this mail.
fn values_from(msg: &Message, app: &Application, t: &trust::Trust) -> Vec<String> {
    let mut values: Vec<String> = [
        &app.name,
        &app.email,
        &app.organisation,
        &app.country,
        &app.region,
        &app.partnership,
        &app.motivation,
        &app.matrix_id,
        &app.forwarded_by,
        &app.subject,
        &app.message_id,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    values.extend(app.attachments.iter().filter_map(|a| a.filename.clone()));
    values.extend(
        msg.attachments()
            .filter_map(|a| a.attachment_name().map(str::to_owned)),
    );
    values.extend(msg.subject().map(str::to_owned));
    let (name, address) = render::sender(msg);
    values.extend(name);
    values.extend(address);
    if let Some(results) = &t.results {
        values.push(results.raw.clone());
        values.push(results.to_string());
    }
    values.push(t.identity.envelope.to_string());
    // The first word of the body, as an unknown command's name would be quoted.
    if let Some(text) = msg.body_text(0) {
        values.extend(text.split_whitespace().next().map(str::to_owned));
    }
    values
}

/// The escaping invariants for one value from mail.
fn check_escaping(raw: &str) -> Result<(), TestCaseError> {
    let value = markup::truncate(raw, 4096);
    prop_assert!(value.len() <= 4096);

    let escaped = markup::escape_markdown(&value);
    let content = notice(&escaped);
    let html = content["formatted_body"].as_str().map(str::to_owned);
    let shown = match &html {
        Some(html) => {
            let text = visible(html, &["p", "br"]);
            prop_assert!(text.is_some(), "a tag from {value:?} survived: {html}");
            text.unwrap()
        }
        None => escaped.clone(),
    };
    for word in words(&value) {
        prop_assert!(
            shown.contains(&word),
            "{word:?} of {value:?} lost: {shown:?}"
        );
    }
    let body = content["body"].as_str().unwrap_or_default();
    prop_assert!(
        !live_mention(body),
        "live mention in {body:?} from {value:?}"
    );

    let line = markup::escape_markdown_line(&value);
    prop_assert!(!line.contains('\n'));
    prop_assert!(!markup::single_line(&value).contains(char::is_control));

    let html = markup::escape_html(&value);
    prop_assert!(!html.contains('<') && !html.contains('>'), "{html}");
    prop_assert!(!live_mention(&html));

    let code = markup::code(&value);
    let content = notice(&format!("unknown command {code}"));
    let html = content["formatted_body"].as_str().unwrap_or_default();
    prop_assert_eq!(html.matches("<code>").count(), 1, "{}", html);
    prop_assert!(visible(html, &["p", "br", "code"]).is_some(), "{html}");
    Ok(())
}

fn notice(markdown: &str) -> serde_json::Value {
    serde_json::to_value(RoomMessageEventContent::notice_markdown(markdown)).expect("content")
}

/// The text of `html` with entities decoded, or `None` if it holds a tag not in `allowed`.
fn visible(html: &str, allowed: &[&str]) -> Option<String> {
    let mut text = String::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        text.push_str(&rest[..open]);
        let close = rest[open..].find('>')? + open;
        // "<br />", "</code>": the element's name either way.
        let tag = rest[open + 1..close].trim_start_matches('/');
        let name = tag.split([' ', '/']).next().unwrap_or_default();
        if !allowed.contains(&name) {
            return None;
        }
        text.push(' ');
        rest = &rest[close + 1..];
    }
    text.push_str(rest);
    Some(
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&amp;", "&"),
    )
}

/// The words of a value that must stay readable: runs of letters and digits of its plain
/// rendering (which drops invisible and control characters).
fn words(value: &str) -> Vec<String> {
    markup::plain_text(value)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// An `@` at a word boundary followed by a character that is not a word joiner or space:
/// what a push rule or a client would read as `@room` or a user id.
fn live_mention(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        c == '@'
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_'))
            && chars
                .get(i + 1)
                .is_some_and(|&n| n != '\u{2060}' && !n.is_whitespace())
    })
}

/// Keeps the known panics of `parse` quiet (they are counted instead); every other panic is
/// reported as before.
fn quiet_known_parser_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let known = info.location().is_some_and(|l| {
                l.file()
                    .contains("mail-parser-0.11.9/src/parsers/message.rs")
            });
            if !(known && cfg!(debug_assertions)) {
                previous(info);
            }
        }));
    });
}

#[test]
fn hostile_seed_reaches_the_escaping_checks() {
    let seed = CORPUS
        .iter()
        .find(|s| s.name.ends_with("seed-hostile-form.eml"))
        .expect("hostile seed");
    let msg = MessageParser::default().parse(&seed.bytes).unwrap();
    let app = extract(&msg, &EXTRACT);
    let t = trust::assess(&msg, &AUTHSERV_IDS);
    let values = values_from(&msg, &app, &t);
    for needle in ["<a href", "](https://phish.example)", "@mallory", "<img"] {
        assert!(
            values.iter().any(|v| v.contains(needle)),
            "{needle} not among {values:#?}"
        );
    }
    // Two From headers and a second, lower Return-Path: no identity, the topmost envelope,
    // and our A-R header's forged comment does not make DKIM pass for the victim.
    assert_eq!(t.identity.from, None);
    assert_eq!(t.identity.envelope.to_string(), "<mallory@evil.example>");
    assert_eq!(t.verdict, Verdict::Unverified);
}

#[test]
fn corpus_seeds_pass_unmutated() {
    quiet_known_parser_panics();
    for seed in CORPUS.iter() {
        if let Err(e) = check(&seed.bytes) {
            panic!("{}: {e}", seed.name);
        }
    }
}

#[test]
fn the_checks_catch_what_they_look_for() {
    // The invariants are only worth something if they fail on unescaped text.
    assert!(live_mention("hello @room"));
    assert!(!live_mention("alice@example.org and @\u{2060}room"));
    let raw = notice("[Approve now](https://phish.example)");
    assert!(visible(raw["formatted_body"].as_str().unwrap(), &["p", "br"]).is_none());
    assert_eq!(
        visible("<p>a &amp; b</p>", &["p"]).as_deref(),
        Some(" a & b ")
    );
    assert!(check_escaping("<img src=x> @room [x](y)").is_ok());
}

#[test]
fn fuzz_whole_mail_path() {
    quiet_known_parser_panics();
    let budget = budget();
    let started = Instant::now();
    let strategy = input();
    let mut cases = 0u64;
    loop {
        let config = RunnerConfig {
            cases: BATCH,
            failure_persistence: Some(Box::new(FileFailurePersistence::Direct(REGRESSIONS))),
            source_file: Some(file!()),
            max_shrink_time: 120_000,
            max_shrink_iters: 4096,
            ..RunnerConfig::default()
        };
        let mut runner = TestRunner::new(config);
        match runner.run(&strategy, |input| check(&input.bytes)) {
            Ok(()) => {}
            Err(TestError::Fail(reason, input)) => {
                let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
                let path = dir.join("fuzz_mail-failure.eml");
                let saved = fs::write(&path, &input.bytes).map(|_| path.display().to_string());
                panic!(
                    "fuzz_mail: {reason}\nminimal failing input: {input:?}\n\
                     all bytes: b\"{}\"\nwritten to {}",
                    input.bytes.escape_ascii(),
                    saved.unwrap_or_else(|e| format!("(not written: {e})"))
                );
            }
            Err(TestError::Abort(reason)) => panic!("fuzz_mail aborted: {reason}"),
        }
        cases += u64::from(BATCH);
        if started.elapsed() >= budget {
            break;
        }
    }
    eprintln!(
        "fuzz_mail: {cases} cases from {} seeds in {:.1} s ({} skipped: mail_parser's own \
         debug assertions)",
        CORPUS.len(),
        started.elapsed().as_secs_f64(),
        PARSER_PANICS.load(Ordering::Relaxed)
    );
}
