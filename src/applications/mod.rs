//! Expressions of interest: reading them from mail ([`extract`]), tracking them ([`intake`]),
//! the secretariat's review ([`commands`]) and the CLI ([`cli`]).

pub mod cli;
pub mod commands;
pub mod extract;
pub mod intake;
