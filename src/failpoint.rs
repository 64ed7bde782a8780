//! Crash points for tests, off by default. `CONVENE_FAILPOINT` holds comma-separated names:
//! - `<name>`: the process aborts (like SIGKILL: no cleanup, no flush) the first time it
//!   reaches [`hit`]`(name)` — for the exactly-once tests across crashes;
//! - `panic:<name>`: [`panic_if`]`(name)` panics, once per process — for the tests that a
//!   panicking worker or handler comes back.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

fn armed() -> &'static [String] {
    static ARMED: OnceLock<Vec<String>> = OnceLock::new();
    ARMED.get_or_init(|| {
        std::env::var("CONVENE_FAILPOINT")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

pub fn hit(name: &str) {
    if armed().iter().any(|a| a == name) {
        eprintln!("convene: failpoint {name} hit, aborting");
        std::process::abort();
    }
}

pub fn panic_if(name: &str) {
    static DONE: AtomicBool = AtomicBool::new(false);
    if armed()
        .iter()
        .any(|a| a.strip_prefix("panic:") == Some(name))
        && !DONE.swap(true, Ordering::SeqCst)
    {
        panic!("failpoint panic:{name}");
    }
}

/// The message of a caught panic.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}
