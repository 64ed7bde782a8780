//! The integration harness: each test gets its own mailbox user, Matrix users, rooms, state
//! directory and database on the real stack started by `scripts/stack.sh up`, and runs the
//! real `convene` binary as a child process (so it can be SIGKILLed and restarted).
//! Some helpers serve only some tests.
#![allow(dead_code)]

mod mail;
mod person;

pub use mail::*;
pub use person::*;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{KeyInit, Mac};
use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId};

pub fn stack() -> &'static HashMap<String, String> {
    static ENV: std::sync::OnceLock<HashMap<String, String>> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let path = std::env::var("CONVENE_STACK_ENV").unwrap_or_else(|_| "/tmp/convene-stack/stack.env".into());
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("cannot read the test stack's env file {path} ({e}): run scripts/test.sh, or scripts/stack.sh up")
        });
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    })
}

pub fn env(key: &str) -> String {
    stack()
        .get(key)
        .cloned()
        .unwrap_or_else(|| panic!("stack.env has no {key}"))
}

pub fn unique() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    format!(
        "{:x}{}{}",
        t % 0x00ff_ffff_ffff,
        std::process::id() % 1000,
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// Registers a Matrix user through Synapse's shared-secret admin API.
pub async fn register_user(localpart: &str, password: &str) -> OwnedUserId {
    let hs = env("MATRIX_HOMESERVER");
    let http = reqwest::Client::new();
    let url = format!("{hs}/_synapse/admin/v1/register");
    let nonce: serde_json::Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    let nonce = nonce["nonce"].as_str().unwrap().to_owned();
    let mut mac =
        hmac::Hmac::<sha1::Sha1>::new_from_slice(env("MATRIX_REGISTRATION_SECRET").as_bytes())
            .unwrap();
    mac.update(format!("{nonce}\0{localpart}\0{password}\0notadmin").as_bytes());
    let body = serde_json::json!({
        "nonce": nonce, "username": localpart, "password": password, "admin": false,
        "mac": hex::encode(mac.finalize().into_bytes()),
    });
    let resp = http.post(&url).json(&body).send().await.unwrap();
    assert!(
        resp.status().is_success(),
        "register {localpart}: {}",
        resp.text().await.unwrap()
    );
    format!("@{localpart}:{}", env("MATRIX_SERVER_NAME"))
        .try_into()
        .unwrap()
}
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One convene instance under test, with everything it needs.
pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub secretariat: Person,
    pub bot: OwnedUserId,
    pub mailbox_user: String,
    pub mailbox_password: String,
    pub address: String,
    pub management: OwnedRoomId,
    pub health: OwnedRoomId,
    pub digital: OwnedRoomId,
    child: Option<Child>,
    pub db_url: String,
    /// Extra environment for the daemon (e.g. `CONVENE__MAILBOX__IDLE=false`).
    pub env: Vec<(String, String)>,
}

pub struct Options {
    pub backend: Backend,
    pub encrypted_health: bool,
    pub max_message_bytes: u64,
    /// TOML appended to the generated config (e.g. a `[calendar]` or `[applications]` section;
    /// the generated config has no such sections of its own).
    pub extra_config: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backend: Backend::Sqlite,
            encrypted_health: false,
            max_message_bytes: 1_000_000,
            extra_config: String::new(),
        }
    }
}

impl TestApp {
    pub async fn spawn(opts: Options) -> TestApp {
        let id = unique();
        let dir = tempfile::tempdir().unwrap();
        let bot_local = format!("bot-{id}");
        let bot = register_user(&bot_local, "pw-bot").await;
        let secretariat = Person::new("sec").await;
        let management = secretariat.create_room("Secretariat", &[&bot], false).await;
        let health = secretariat
            .create_room("Health", &[&bot], opts.encrypted_health)
            .await;
        let digital = secretariat.create_room("Digital", &[&bot], false).await;

        let mailbox_user = format!("wg-{id}");
        let mailbox_password = format!("pw-{id}");
        let passwd = env("DOVECOT_PASSWD_FILE");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&passwd)
            .unwrap();
        std::io::Write::write_all(
            &mut f,
            format!("{mailbox_user}:{{PLAIN}}{mailbox_password}\n").as_bytes(),
        )
        .unwrap();
        let address = format!("{mailbox_user}@{}", env("MAIL_DOMAIN"));

        let db_url = match opts.backend {
            Backend::Sqlite => format!("sqlite://{}/convene.db?mode=rwc", dir.path().display()),
            Backend::Postgres => create_pg_database(&format!("convene_it_{id}")).await,
        };
        let config = format!(
            r#"
state_dir = "{state}"
log = "convene=debug,info"
[matrix]
homeserver = "{hs}"
user = "{bot}"
secret = "pw-bot"
management_room = "{management}"
admins = ["{sec}"]
[mailbox]
host = "127.0.0.1"
port = {imap_port}
tls = "plain"
user = "{mailbox_user}"
secret = "{mailbox_password}"
address = "{address}"
max_message_bytes = {max}
[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "plain"
from = "Working Groups <{address}>"
[database]
url = "{db_url}"
[[groups]]
slug = "health"
name = "Health"
aliases = ["Gesundheit", "Santé"]
room = "{health}"
[[groups]]
slug = "digital"
name = "Digital"
room = "{digital}"
"#,
            state = dir.path().join("state").display(),
            hs = env("MATRIX_HOMESERVER"),
            sec = secretariat.user,
            imap_port = env("IMAP_PORT"),
            smtp_port = env("SMTP_PORT"),
            max = opts.max_message_bytes,
        );
        let config_path = dir.path().join("convene.toml");
        std::fs::write(&config_path, format!("{config}\n{}\n", opts.extra_config)).unwrap();
        TestApp {
            dir,
            config_path,
            secretariat,
            bot,
            mailbox_user,
            mailbox_password,
            address,
            management,
            health,
            digital,
            child: None,
            db_url,
            env: Vec::new(),
        }
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("convene.log")
    }

    /// Starts `convene run`; `failpoint` arms a crash point (see `convene::failpoint`).
    pub fn start(&mut self, failpoint: Option<&str>) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_convene"));
        cmd.arg("--config")
            .arg(&self.config_path)
            .arg("run")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        cmd.envs(self.env.iter().cloned());
        if let Some(fp) = failpoint {
            cmd.env("CONVENE_FAILPOINT", fp);
        }
        self.child = Some(cmd.spawn().unwrap());
    }

    /// Waits for the process to exit by itself (a failpoint), returning whether it crashed.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let mut child = self.child.take().expect("not running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return !status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "convene did not exit within {timeout:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The running daemon's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait: the graceful stop.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("not running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(s) = c.try_wait().unwrap() {
                return s;
            }
            assert!(Instant::now() < deadline, "convene ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    pub async fn wait_log(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.log().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "log never said {needle:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts and waits until the bot is answering and connected to IMAP.
    pub async fn start_ready(&mut self) {
        let before = self.log().matches("answering from now on").count();
        self.start(None);
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.log().matches("answering from now on").count() <= before
            || self.log().matches("IMAP connected").count() <= before
        {
            assert!(
                Instant::now() < deadline,
                "convene did not get ready:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn wait_bot_joined(&self) {
        for room in [&self.management, &self.health, &self.digital] {
            self.secretariat
                .wait_joined(room, &self.bot, Duration::from_secs(30))
                .await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "---- convene log ({}) ----\n{}",
                self.log_path().display(),
                self.log()
            );
        }
    }
}

/// Runs `scripts/stack.sh ARGS` (stop/start a server of the stack).
pub fn stack_sh(args: &[&str]) {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/stack.sh");
    let status = Command::new(script)
        .args(args)
        .env("CONVENE_STACK_DIR", env("CONVENE_STACK_DIR"))
        .status()
        .unwrap();
    assert!(status.success(), "stack.sh {args:?} failed");
}

/// How many times the log says `needle`.
pub fn count_in(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

async fn create_pg_database(name: &str) -> String {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let admin = env("POSTGRES_ADMIN_URL");
    let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.rsplit_once('/').unwrap().0;
    format!("{base}/{name}")
}
