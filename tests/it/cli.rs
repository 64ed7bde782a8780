//! The command line: check-config, print-config, command.

#[test]
fn check_config_names_the_offending_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let bad = convene::config::EXAMPLE.replace("port = 993", "port = \"imaps\"");
    std::fs::write(&path, bad).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .args(["--config", path.to_str().unwrap(), "check-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("mailbox.port"), "{err}");

    std::fs::write(&path, convene::config::EXAMPLE).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .args(["--config", path.to_str().unwrap(), "check-config"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn print_config_is_the_example_and_cli_runs_commands() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .arg("print-config")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        convene::config::EXAMPLE
    );

    let dir = tempfile::tempdir().unwrap();
    let config = convene::config::EXAMPLE.replace(
        "state_dir = \"/var/lib/convene\"",
        &format!("state_dir = \"{}\"", dir.path().display()),
    );
    let path = dir.path().join("c.toml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .args([
            "--config",
            path.to_str().unwrap(),
            "command",
            "!help",
            "--group",
            "health",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("`!help [command]`"));
}

#[test]
fn check_config_reads_the_calendar_file_and_names_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let cal = dir.path().join("calendar.toml");
    std::fs::write(&cal, "[[meeting]]\nid = \"m1\"\ntitle = \"Kick-off\"\ngroups = [\"health\"]\nmode = \"online\"\nstart = \"2026-13-45T10:00\"\nend = \"2026-05-12T12:00\"\n").unwrap();
    let config = convene::config::EXAMPLE.replace(
        "# file = \"/etc/convene/calendar.toml\"",
        &format!("file = \"{}\"", cal.display()),
    );
    assert!(
        config.contains(&cal.display().to_string()),
        "example config has no calendar.file line to replace"
    );
    let path = dir.path().join("c.toml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .args(["--config", path.to_str().unwrap(), "check-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("calendar.file") && err.contains("Kick-off") && err.contains("start"),
        "{err}"
    );
}

#[test]
fn cli_commands_answer_from_the_calendar_file() {
    let dir = tempfile::tempdir().unwrap();
    let calendar = concat!(env!("CARGO_MANIFEST_DIR"), "/config/calendar.example.toml");
    let config = convene::config::EXAMPLE
        .replace(
            "state_dir = \"/var/lib/convene\"",
            &format!("state_dir = \"{}\"", dir.path().display()),
        )
        .replace(
            "# file = \"/etc/convene/calendar.toml\"",
            &format!("file = \"{calendar}\""),
        );
    let path = dir.path().join("c.toml");
    std::fs::write(&path, config).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .args([
            "--config",
            path.to_str().unwrap(),
            "command",
            "!meetings 2024",
            "--group",
            "health",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("24 Apr 2024") && text.contains("11 Oct 2024"),
        "{text}"
    );
}
