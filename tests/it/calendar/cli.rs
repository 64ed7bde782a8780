//! `convene calendar preview | export | import` through the binary.

use chrono::Utc;

use super::{EXAMPLE, uids};
use convene::calendar::file;

fn convene_cli(config: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_convene"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cli_previews_a_schedule_exports_and_imports() {
    let dir = tempfile::tempdir().unwrap();
    let config = convene::config::EXAMPLE
        .replace(
            "state_dir = \"/var/lib/convene\"",
            &format!("state_dir = \"{}\"", dir.path().display()),
        )
        .replace(
            "# file = \"/etc/convene/calendar.toml\"",
            &format!("file = \"{EXAMPLE}\""),
        );
    let path = dir.path().join("c.toml");
    std::fs::write(&path, config).unwrap();

    // 02:30 does not exist on 29 Mar 2026 in Brussels: fired once, right after the gap.
    let out = convene_cli(
        &path,
        &[
            "calendar",
            "preview",
            "30 2 * * *",
            "--from",
            "2026-03-28",
            "--count",
            "3",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].contains("+01:00") && lines[2].contains("+02:00"),
        "{out}"
    );

    let cal = file::parse(&std::fs::read_to_string(EXAMPLE).unwrap()).unwrap();
    let all = convene_cli(&path, &["calendar", "export"]);
    assert_eq!(uids(&all).len(), cal.items().len());
    let health = convene_cli(&path, &["calendar", "export", "--group", "health"]);
    let n = cal
        .items()
        .iter()
        .filter(|i| i.concerns(Some("health")))
        .count();
    assert_eq!(uids(&health).len(), n);

    let one = file::parse(
        "[[meeting]]\nid = \"imported\"\ntitle = \"Imported meeting\"\nmode = \"online\"\nstart = \"2027-02-03T10:00\"\n",
    )
    .unwrap();
    let opts = convene::calendar::ics::FeedOptions {
        name: "x",
        dtstamp: Utc::now(),
        date_tz: chrono_tz::Europe::Brussels,
    };
    let ics_path = dir.path().join("one.ics");
    std::fs::write(
        &ics_path,
        convene::calendar::ics::export(&one, None, &|_| 0, &opts),
    )
    .unwrap();
    let ics_arg = ics_path.to_str().unwrap();
    let out = convene_cli(&path, &["calendar", "import", ics_arg]);
    assert!(
        out.contains("1 events read, 1 items added or changed"),
        "{out}"
    );
    let out = convene_cli(&path, &["calendar", "import", ics_arg]);
    assert!(out.contains("0 items added or changed"), "{out}");
    let all = convene_cli(&path, &["calendar", "export"]);
    assert_eq!(uids(&all).len(), cal.items().len() + 1);
    assert!(all.contains("Imported meeting"));
}
