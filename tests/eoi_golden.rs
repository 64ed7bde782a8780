//! Golden-file tests for reading expressions of interest from real-world mail.
//!
//! - `tests/fixtures/eoi/NN-name.eml` is extracted and compared with `NN-name.json`; a
//!   mismatch writes `NN-name.json.failed` beside it. `CONVENE_BLESS=1` rewrites the goldens,
//!   which must then be reviewed by hand: they state what a careful secretariat would extract.
//! - `tests/fixtures/auto/*.eml` must all be automatic mail, except `human-*.eml`.
//! - Every message of CPython's email test corpus goes through the pipeline without a panic
//!   (errors are fine: the daemon quarantines them). `CPYTHON_EMAIL_DATA` may point at the
//!   corpus; otherwise it is found through `python3`.

use std::fs;
use std::panic::catch_unwind;
use std::path::{Path, PathBuf};
use std::process::Command;

use convene::applications::extract::{ExtractConfig, GroupNames, MailKind, extract, parse_eml};
use convene::mail::automatic;
use mail_parser::MessageParser;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn config() -> ExtractConfig {
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
    cfg.own_addresses = vec![
        "working-groups@htp.example".to_string(),
        "working-groups@convene.test".to_string(),
    ];
    cfg
}

/// The `.eml` files of a fixture folder, sorted by name.
fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

#[test]
fn eoi_golden() {
    let cfg = config();
    let bless = std::env::var("CONVENE_BLESS").is_ok_and(|v| v == "1");
    let files = eml_files(&fixtures().join("eoi"));
    assert!(
        files.len() >= 40,
        "the EoI corpus holds {} mails, expected at least 40",
        files.len()
    );
    let mut failed = Vec::new();
    for eml in &files {
        let raw = fs::read(eml).expect("read fixture");
        let app = parse_eml(&raw, &cfg)
            .unwrap_or_else(|e| panic!("{}: not parsed as a mail: {e:#}", name_of(eml)));
        let json = serde_json::to_string_pretty(&app).expect("serialise") + "\n";
        let golden = eml.with_extension("json");
        let failed_path = eml.with_extension("json.failed");
        if bless {
            fs::write(&golden, &json).expect("write golden");
            let _ = fs::remove_file(&failed_path);
            continue;
        }
        let expected = fs::read_to_string(&golden).unwrap_or_default();
        if expected == json {
            let _ = fs::remove_file(&failed_path);
        } else {
            fs::write(&failed_path, &json).expect("write .failed");
            failed.push(name_of(&golden));
        }
    }
    assert!(
        failed.is_empty(),
        "{} golden file(s) differ (actual output in *.json.failed): {}",
        failed.len(),
        failed.join(", ")
    );
}

#[test]
fn automatic_corpus() {
    let cfg = config();
    let files = eml_files(&fixtures().join("auto"));
    assert!(
        files.len() >= 10,
        "the automatic-mail corpus holds {} mails",
        files.len()
    );
    let mut wrong = Vec::new();
    for eml in &files {
        let raw = fs::read(eml).expect("read fixture");
        let msg = MessageParser::default()
            .parse(&raw)
            .unwrap_or_else(|| panic!("{}: not a mail", name_of(eml)));
        let human = name_of(eml).starts_with("human-");
        let reason = automatic::detect(&msg);
        let kind = parse_eml(&raw, &cfg).expect("parse").kind;
        let is_auto = matches!(kind, MailKind::Automatic { .. });
        if human == reason.is_some() || human == is_auto {
            wrong.push(format!("{} ({reason:?})", name_of(eml)));
        }
    }
    assert!(wrong.is_empty(), "misclassified: {}", wrong.join(", "));
}

#[test]
fn truncated_and_mangled_fixtures_never_panic() {
    // Cheap fuzzing: every fixture cut at many points, and with bytes flipped, must yield a
    // record or an error, never a panic.
    let cfg = config();
    let mut files = eml_files(&fixtures().join("eoi"));
    files.extend(eml_files(&fixtures().join("auto")));
    let mut panicked = Vec::new();
    for file in &files {
        let raw = fs::read(file).expect("read fixture");
        let step = (raw.len() / 16).max(1);
        for cut in (0..raw.len()).step_by(step) {
            let mut mangled = raw[..cut].to_vec();
            if catch_unwind(|| parse_eml(&mangled, &cfg)).is_err() {
                panicked.push(format!("{} cut at {cut}", name_of(file)));
            }
            for i in (0..mangled.len()).step_by(7) {
                mangled[i] = mangled[i].wrapping_mul(31).wrapping_add(cut as u8);
            }
            if catch_unwind(|| parse_eml(&mangled, &cfg)).is_err() {
                panicked.push(format!("{} mangled at {cut}", name_of(file)));
            }
        }
    }
    assert!(panicked.is_empty(), "panicked on: {}", panicked.join(", "));
}

/// CPython's `Lib/test/test_email/data`, from `CPYTHON_EMAIL_DATA` or the first Python
/// interpreter that has it (`python3` on the PATH, the system one, pyenv's): distributions
/// often ship the `test` package without its data (Debian: `libpython3.X-testsuite`).
fn cpython_email_data() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("CPYTHON_EMAIL_DATA") {
        return Ok(PathBuf::from(dir));
    }
    let mut interpreters = vec![PathBuf::from("python3"), PathBuf::from("/usr/bin/python3")];
    if let Some(home) = std::env::var_os("HOME")
        && let Ok(versions) = fs::read_dir(Path::new(&home).join(".pyenv/versions"))
    {
        interpreters.extend(versions.flatten().map(|v| v.path().join("bin/python3")));
    }
    let mut tried = Vec::new();
    for python in interpreters {
        let out = Command::new(&python)
            .args([
                "-c",
                "import test, os; print(os.path.dirname(test.__file__))",
            ])
            .output();
        let data = match out {
            Ok(out) if out.status.success() => {
                let test_dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
                Path::new(&test_dir).join("test_email").join("data")
            }
            Ok(_) => {
                tried.push(format!("{}: no `test` package", python.display()));
                continue;
            }
            Err(e) => {
                tried.push(format!("{}: {e}", python.display()));
                continue;
            }
        };
        if data.is_dir() {
            return Ok(data);
        }
        tried.push(format!("{}: no {}", python.display(), data.display()));
    }
    Err(tried.join("; "))
}

#[test]
fn cpython_email_corpus_never_panics() {
    let dir = cpython_email_data().unwrap_or_else(|e| {
        panic!(
            "CPython's email test corpus not found ({e}); install Python's test suite \
             (Debian: libpython3.11-testsuite) or set CPYTHON_EMAIL_DATA"
        )
    });
    let cfg = config();
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| {
            let name = name_of(p);
            name.starts_with("msg_") && name.ends_with(".txt")
        })
        .collect();
    files.sort();
    let mut panicked = Vec::new();
    for file in &files {
        let raw = fs::read(file).expect("read corpus file");
        let outcome = catch_unwind(|| {
            let _ = parse_eml(&raw, &cfg);
            if let Some(msg) = MessageParser::default().parse(&raw) {
                let _ = extract(&msg, &cfg);
                let _ = automatic::detect_with_sender(&msg, Some("<>"));
            }
        });
        if outcome.is_err() {
            panicked.push(name_of(file));
        }
    }
    assert!(panicked.is_empty(), "panicked on: {}", panicked.join(", "));
    assert!(
        files.len() >= 40,
        "read only {} files from {}",
        files.len(),
        dir.display()
    );
}
