#![recursion_limit = "256"]
//! Integration tests on the real stack (Synapse, Dovecot, Postfix, PostgreSQL), started by
//! `scripts/stack.sh up` (the README's test command does it). Each test has its own users,
//! rooms, mailbox and database, and runs the real binary.

mod applications;
mod bridge;
mod calendar;
mod cli;
mod ops;
mod resilience;
mod rooms;
mod safety;
mod storm;
mod support;

use std::time::Duration;

pub const MAIL_WAIT: Duration = Duration::from_secs(30);
/// How long to keep watching for a second copy after the first arrived.
pub const SETTLE: Duration = Duration::from_secs(3);
