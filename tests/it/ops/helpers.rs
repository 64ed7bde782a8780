//! Helpers of the operations tests: an app with its HTTP listener, scraping, EoI mail.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::support::{Backend, Options, TestApp, send_raw, unique};

/// A free port on loopback (bound, then released for the daemon).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A started app with `/metrics` and `/readyz` at the returned base URL.
pub async fn started(backend: Backend, extra: &str) -> (TestApp, String) {
    let port = free_port();
    let mut app = TestApp::spawn(Options {
        backend,
        extra_config: format!(
            "[http]\nlisten = \"127.0.0.1:{port}\"\n[applications]\ncall = \"2026\"\n# The ops tests export from the (unencrypted) management room.\nexport_unencrypted = true\n{extra}\n"
        ),
        ..Options::default()
    })
    .await;
    app.start_ready().await;
    app.wait_bot_joined().await;
    (app, format!("http://127.0.0.1:{port}"))
}

pub async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// Waits until `path` answers `status`.
pub async fn wait_status(base: &str, path: &str, status: u16, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(r) = reqwest::get(format!("{base}{path}")).await {
            let s = r.status().as_u16();
            let body = r.text().await.unwrap_or_default();
            if s == status {
                return body;
            }
            assert!(
                Instant::now() < deadline,
                "{path} still {s} ({body}) after {timeout:?}"
            );
        } else {
            assert!(Instant::now() < deadline, "{path} never answered");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Parses a Prometheus/OpenMetrics text exposition strictly enough to catch a broken one:
/// every line is a `# HELP|TYPE|UNIT` comment, `# EOF` (last), or `series value`.
pub fn parse_metrics(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "no # EOF at the end:\n{text}");
    for line in &lines[..lines.len() - 1] {
        if let Some(c) = line.strip_prefix("# ") {
            let word = c.split(' ').next().unwrap_or_default();
            assert!(
                ["HELP", "TYPE", "UNIT"].contains(&word),
                "bad comment: {line}"
            );
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line: {line}"));
        let name_end = series.find('{').unwrap_or(series.len());
        let name = &series[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad metric name: {line}"
        );
        if name_end < series.len() {
            assert!(series.ends_with('}'), "bad labels: {line}");
        }
        let v: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value: {line}"));
        assert!(out.insert(series.to_owned(), v).is_none(), "twice: {line}");
    }
    out
}

pub async fn scrape(base: &str) -> HashMap<String, f64> {
    let (status, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200, "{text}");
    parse_metrics(&text)
}

pub fn val(m: &HashMap<String, f64>, series: &str) -> f64 {
    m.get(series).copied().unwrap_or(0.0)
}

pub fn eoi_body(name: &str, matrix: Option<&str>) -> String {
    let matrix = matrix
        .map(|m| format!("Matrix id: {m}\n"))
        .unwrap_or_default();
    format!(
        "Dear Secretariat,\n\nName: {name}\nOrganisation: Regional Health Agency\n\
         Type of organisation: Public authority\nCountry: Spain\nWorking group: Health\n\
         Role: Core team member\n{matrix}Motivation: we run regional public-health programmes \
         and would like to share our experience with other regions in the working group.\n\n\
         Best regards,\n{name}\n"
    )
}

/// Sends an expression of interest from `addr`; returns its Message-ID.
pub async fn send_eoi(app: &TestApp, addr: &str, name: &str) -> String {
    send_eoi_with(app, addr, name, None).await
}

/// The same, naming a Matrix id in the form.
pub async fn send_eoi_with(app: &TestApp, addr: &str, name: &str, matrix: Option<&str>) -> String {
    let id = format!("<{}@applicant.test>", unique());
    let raw = format!(
        "From: {name} <{addr}>\r\nTo: {to}\r\nSubject: Expression of interest\r\n\
         Message-ID: {id}\r\nDate: {date}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}",
        to = app.address,
        date = chrono::Utc::now().to_rfc2822(),
        body = eoi_body(name, matrix).replace('\n', "\r\n"),
    );
    send_raw(addr, &app.address, raw.as_bytes()).await;
    id
}

/// Runs `convene ARGS…` against the app's config; returns (success, stdout, stderr).
pub fn cli(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .arg("--config")
        .arg(&app.config_path)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The card of `addr` in the management room, once it is there.
pub async fn wait_card(app: &TestApp, addr: &str) -> crate::support::Seen {
    let seen = app
        .secretariat
        .wait_for(
            &app.management,
            addr,
            Duration::from_secs(40),
            Duration::ZERO,
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(c) = app
            .secretariat
            .matching(&app.management, addr)
            .into_iter()
            .find(|s| s.body.starts_with("**Expression of interest #"))
        {
            return c;
        }
        assert!(Instant::now() < deadline, "no card for {addr}: {seen:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Says `command` in the management room and returns the bot's answer to it.
pub async fn ask(app: &TestApp, command: &str) -> String {
    let asked = app.secretariat.say(&app.management, command).await;
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        if let Some(s) = app
            .secretariat
            .matching(&app.management, "")
            .into_iter()
            .find(|s| s.in_reply_to.as_deref() == Some(asked.as_str()))
        {
            return s.body;
        }
        assert!(Instant::now() < deadline, "no answer to {command:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Every file under `dir` (recursively) whose bytes contain `needle` (case-insensitive).
pub fn files_containing(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let needle = needle.to_lowercase().into_bytes();
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                let lower = bytes.to_ascii_lowercase();
                if lower.windows(needle.len()).any(|w| w == needle.as_slice()) {
                    out.push(p.display().to_string());
                }
            }
        }
    }
    out.sort();
    out
}
