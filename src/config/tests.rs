use super::*;

const MINIMAL: &str = r#"
[matrix]
homeserver = "http://127.0.0.1:8008"
user = "@bot:localhost"
secret = "pw"
management_room = "!mgmt"
[mailbox]
host = "127.0.0.1"
tls = "plain"
user = "wg"
secret = "pw"
address = "wg@convene.test"
[smtp]
host = "127.0.0.1"
tls = "plain"
from = "Secretariat <wg@convene.test>"
[[groups]]
slug = "health"
name = "Health"
room = "!health"
"#;

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

#[test]
fn example_config_is_valid() {
    let c = Config::from_toml(EXAMPLE, no_env()).unwrap();
    assert_eq!(c.groups.len(), 4);
    assert_eq!(c.tz(), chrono_tz::Europe::Brussels);
    assert_eq!(c.calendar.jobs.len(), 2);
}

#[test]
fn defaults_fill_in() {
    let c = Config::from_toml(MINIMAL, no_env()).unwrap();
    assert_eq!(c.mailbox.folder, "INBOX");
    assert_eq!(c.mailbox.idle_refresh_secs, 300);
    assert_eq!(c.timezone, chrono_tz::Europe::Brussels);
    assert_eq!(c.outbox.retry_for, chrono::TimeDelta::days(5));
    assert!(c.database_url().unwrap().starts_with("sqlite://"));
}

#[test]
fn env_overrides_nested_and_indexed_keys() {
    let env = vec![
        ("CONVENE__MAILBOX__PORT".to_string(), "11143".to_string()),
        ("CONVENE__GROUPS__0__ROOM".to_string(), "!other".to_string()),
        (
            "CONVENE__MATRIX__ADMINS".to_string(),
            r#"["@a:localhost"]"#.to_string(),
        ),
        ("UNRELATED".to_string(), "x".to_string()),
    ];
    let c = Config::from_toml(MINIMAL, env).unwrap();
    assert_eq!(c.mailbox.port, 11143);
    assert_eq!(c.groups[0].room, "!other");
    assert_eq!(c.matrix.admins, vec!["@a:localhost"]);
}

#[test]
fn wrong_type_names_the_key() {
    let bad = MINIMAL.replace(
        "tls = \"plain\"\nuser = \"wg\"",
        "tls = \"plain\"\nport = \"x\"\nuser = \"wg\"",
    );
    let err = format!("{:#}", Config::from_toml(&bad, no_env()).unwrap_err());
    assert!(err.contains("mailbox.port"), "{err}");
}

#[test]
fn unknown_key_names_the_key() {
    let bad = MINIMAL.replace("[smtp]", "[smtp]\nhots = \"x\"");
    let err = format!("{:#}", Config::from_toml(&bad, no_env()).unwrap_err());
    assert!(err.contains("hots") && err.contains("smtp"), "{err}");
}

#[test]
fn semantic_errors_name_each_key() {
    let bad = MINIMAL
        .replace("user = \"@bot:localhost\"", "user = \"bot\"")
        .replace("slug = \"health\"", "slug = \"Health Group\"")
        .replace(
            "[smtp]\nhost = \"127.0.0.1\"",
            "[smtp]\nhost = \"smtp.example.org\"",
        );
    let err = format!("{:#}", Config::from_toml(&bad, no_env()).unwrap_err());
    assert!(err.contains("matrix.user"), "{err}");
    assert!(err.contains("groups[0].slug"), "{err}");
    assert!(err.contains("smtp.tls"), "{err}");
}

#[test]
fn bad_timezone_is_rejected() {
    let bad = format!("timezone = \"Europe/Atlantis\"\n{MINIMAL}");
    let err = format!("{:#}", Config::from_toml(&bad, no_env()).unwrap_err());
    assert!(err.contains("timezone"), "{err}");
}

#[test]
fn a_sqlite_url_written_by_the_user_creates_the_file() {
    for (given, want) in [
        (
            "sqlite:///var/lib/convene/convene.db",
            "sqlite:///var/lib/convene/convene.db?mode=rwc",
        ),
        (
            "sqlite:///x.db?cache=shared",
            "sqlite:///x.db?cache=shared&mode=rwc",
        ),
        ("sqlite:///x.db?mode=ro", "sqlite:///x.db?mode=ro"),
        ("postgres://u@h/db", "postgres://u@h/db"),
    ] {
        let text = MINIMAL.replace("[smtp]", &format!("[database]\nurl = \"{given}\"\n[smtp]"));
        let c = Config::from_toml(&text, no_env()).unwrap();
        assert_eq!(c.database_url().unwrap(), want);
    }
}

#[test]
fn plain_http_homeserver_only_on_loopback() {
    let ok = MINIMAL.replace("http://127.0.0.1:8008", "http://localhost:8008/");
    assert!(Config::from_toml(&ok, no_env()).is_ok());
    let bad = MINIMAL.replace("http://127.0.0.1:8008", "http://matrix.example.org");
    let err = format!("{:#}", Config::from_toml(&bad, no_env()).unwrap_err());
    assert!(err.contains("matrix.homeserver"), "{err}");
    let tricky = MINIMAL.replace("http://127.0.0.1:8008", "http://127.0.0.1.evil.example");
    assert!(Config::from_toml(&tricky, no_env()).is_err());
}

#[test]
fn job_actions_and_outbox_durations_are_typed() {
    let text = format!(
        "{MINIMAL}\n[outbox]\nretry_for = \"1h\"\nretry_min = \"1s\"\nretry_max = \"10s\"\n[[calendar.jobs]]\nname = \"d\"\nschedule = \"0 9 * * Mon\"\naction = \"digest\"\n"
    );
    let c = Config::from_toml(&text, no_env()).unwrap();
    assert_eq!(c.calendar.jobs[0].action, JobAction::Digest);
    assert_eq!(c.outbox.retry_max, chrono::TimeDelta::seconds(10));
    let bad = text.replace("action = \"digest\"", "action = \"dance\"");
    let err = format!("{:#}", Config::from_toml(&bad, no_env()).unwrap_err());
    assert!(err.contains("calendar.jobs[0].action"), "{err}");
    let bad = text.replace("retry_min = \"1s\"", "retry_min = \"soon\"");
    let err = format!("{:#}", Config::from_toml(&bad, no_env()).unwrap_err());
    assert!(err.contains("outbox.retry_min"), "{err}");
}
