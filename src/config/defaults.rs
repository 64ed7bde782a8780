//! Default values of configuration keys (serde `default = "…"`).

use std::path::PathBuf;

use super::TlsMode;

pub(super) fn default_state_dir() -> PathBuf {
    std::env::var_os("STATE_DIRECTORY")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/lib/convene"))
}
pub(super) fn default_timezone() -> chrono_tz::Tz {
    chrono_tz::Europe::Brussels
}
pub(super) fn default_log() -> String {
    "info".into()
}
pub(super) fn default_device_name() -> String {
    "convene".into()
}
pub(super) fn default_prefix() -> String {
    "!".into()
}
pub(super) fn default_secretariat_power_level() -> i64 {
    100
}
pub(super) fn default_imap_port() -> u16 {
    993
}
pub(super) fn default_smtp_port() -> u16 {
    587
}
pub(super) fn default_tls() -> TlsMode {
    TlsMode::Tls
}
pub(super) fn default_smtp_tls() -> TlsMode {
    TlsMode::Starttls
}
pub(super) fn default_folder() -> String {
    "INBOX".into()
}
pub(super) fn yes() -> bool {
    true
}
pub(super) fn default_idle_refresh() -> u64 {
    5 * 60
}
pub(super) fn default_poll() -> u64 {
    60
}
pub(super) fn default_max_message() -> u64 {
    25 * 1024 * 1024
}
pub(super) fn default_imap_timeout() -> u64 {
    60
}
pub(super) fn default_max_connections() -> u32 {
    4
}
pub(super) fn one() -> u32 {
    1
}
pub(super) fn two() -> u32 {
    2
}
pub(super) fn three() -> u32 {
    3
}

pub fn default_imap_grace() -> u64 {
    30
}
