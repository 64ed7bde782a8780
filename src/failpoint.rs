//! Crash points for tests: with `CONVENE_FAILPOINT=<name>` in the environment the process
//! aborts (like SIGKILL: no cleanup, no flush) the first time it reaches that point. Used by
//! the integration tests to prove exactly-once delivery across crashes. Off by default.

use std::sync::OnceLock;

pub fn hit(name: &str) {
    static ARMED: OnceLock<Option<String>> = OnceLock::new();
    let armed = ARMED.get_or_init(|| {
        std::env::var("CONVENE_FAILPOINT")
            .ok()
            .filter(|s| !s.is_empty())
    });
    if armed.as_deref() == Some(name) {
        eprintln!("convene: failpoint {name} hit, aborting");
        std::process::abort();
    }
}
