//! `convene setup` on the real Synapse: creates the space and its rooms, a second run changes
//! nothing, and the daemon runs on the configuration it wrote.

use std::time::Duration;

use matrix_sdk::ruma::OwnedRoomId;

use super::helpers::{ask, cli};
use crate::support::{Options, TestApp, env, unique};

async fn state(app: &TestApp, room: &str, event_type: &str, key: &str) -> serde_json::Value {
    let url = format!(
        "{}/_matrix/client/v3/rooms/{room}/state/{event_type}/{key}",
        env("MATRIX_HOMESERVER")
    );
    reqwest::Client::new()
        .get(url)
        .bearer_auth(app.secretariat.client.access_token().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn id_of(out: &str, what: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{what} = \"")))
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or_else(|| panic!("no id of {what} in:\n{out}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_creates_the_space_and_rooms_once_and_the_daemon_runs_on_its_config() {
    let mut app = TestApp::spawn(Options::default()).await;
    let p = format!("s{}", unique());
    let server = env("MATRIX_SERVER_NAME");
    let text = std::fs::read_to_string(&app.config_path).unwrap();
    let text = text
        .replace(
            app.management.as_str(),
            &format!("#{p}-secretariat:{server}"),
        )
        .replace(app.health.as_str(), &format!("#{p}-health:{server}"))
        .replace(app.digital.as_str(), "!placeholder-room-id")
        .replace(
            "[matrix]\n",
            &format!("[matrix]\nspace = \"#{p}:{server}\"\n"),
        );
    std::fs::write(&app.config_path, text).unwrap();

    let (ok, out, err) = cli(&app, &["setup", "--alias-prefix", &p, "--write"]);
    assert!(ok, "{out}{err}");
    for what in ["space", "management", "health", "digital"] {
        assert!(
            out.contains(&format!("created {what} as #")),
            "{what}:\n{out}"
        );
    }
    assert!(
        out.contains(&format!("created digital as #{p}-digital:{server}")),
        "{out}"
    );
    let space = id_of(&out, "space");
    let management = id_of(&out, "management");
    let health = id_of(&out, "health");
    let digital = id_of(&out, "digital");

    // The secretariat was invited everywhere: it joins, to look.
    for room in [&space, &management, &health, &digital] {
        let id = OwnedRoomId::try_from(room.as_str()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while app.secretariat.client.join_room_by_id(&id).await.is_err() {
            assert!(std::time::Instant::now() < deadline, "cannot join {room}");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    // The space and its children, both ways; the management room encrypted; the
    // secretariat at power level 100.
    let create = state(&app, &space, "m.room.create", "").await;
    assert_eq!(create["type"], "m.space", "{create}");
    for child in [&management, &health, &digital] {
        let c = state(&app, &space, "m.space.child", child).await;
        assert!(c["via"].is_array(), "{child}: {c}");
        let parent = state(&app, child, "m.space.parent", &space).await;
        assert_eq!(parent["canonical"], true, "{parent}");
        let levels = state(&app, child, "m.room.power_levels", "").await;
        assert_eq!(
            levels["users"][app.secretariat.user.as_str()],
            100,
            "{levels}"
        );
    }
    let enc = state(&app, &management, "m.room.encryption", "").await;
    assert_eq!(enc["algorithm"], "m.megolm.v1.aes-sha2", "{enc}");
    let name = state(&app, &health, "m.room.name", "").await;
    assert_eq!(name["name"], "Health");

    // The configuration holds the ids now; a second run changes nothing.
    let written = std::fs::read_to_string(&app.config_path).unwrap();
    assert!(
        written.contains(&format!("management_room = \"{management}\"")),
        "{written}"
    );
    assert!(
        written.contains(&format!("room = \"{digital}\"")),
        "{written}"
    );
    assert!(
        written.contains(&format!("space = \"{space}\"")),
        "{written}"
    );
    let (ok, again, err) = cli(&app, &["setup", "--alias-prefix", &p]);
    assert!(ok, "{err}");
    assert!(again.contains("no changes"), "{again}");
    assert_eq!(id_of(&again, "space"), space);
    assert_eq!(id_of(&again, "health"), health);

    // The daemon runs on it and answers the secretariat.
    app.management = OwnedRoomId::try_from(management.as_str()).unwrap();
    app.start_ready().await;
    // The management room is encrypted: let the secretariat's client see the bot's new device.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let answer = ask(&app, "!help").await;
    assert!(answer.contains("!audit"), "{answer}");

    // An accepted applicant is invited to the group's room and to the space.
    let local = format!("applicant-{}", unique());
    let user = crate::support::register_user(&local, "pw").await;
    let ana = format!("ana-{p}@applicant.test");
    super::helpers::send_eoi_with(&app, &ana, "Ana Ruiz", Some(user.as_str())).await;
    super::helpers::wait_card(&app, &ana).await;
    let answer = ask(&app, "!eoi accept 1 health").await;
    assert!(answer.contains("invited"), "{answer}");
    for room in [&health, &space] {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let m = state(&app, room, "m.room.member", user.as_str()).await;
            if m["membership"] == "invite" {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{user} not invited to {room}: {m}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}
