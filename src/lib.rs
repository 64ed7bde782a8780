//! convene — the secretariat of a set of working groups, between one functional mailbox and a
//! Matrix space.
//!
//! # Layout
//! - [`app`]: the daemon: shared context, named workers, start and graceful stop.
//! - [`config`]: the TOML configuration, environment overrides, secrets, checks.
//! - [`storage`]: the database (SQLite or PostgreSQL), migrations, quarantine.
//! - [`mail`]: IMAP in, the inbound pipeline (automatic-mail detection, routing), SMTP out.
//! - [`matrix`]: the bot's session, sync and event handlers, and the Matrix outbox.
//! - [`commands`]: chat commands, shared by rooms and the CLI.
//! - [`http`]: health (and calendar feeds).
//! - [`markup`]: escaping of everything taken from mail before it enters Markdown or HTML.
//! - [`cli`]: the command line.
//!
//! Every side effect is persisted before it is performed: inbound mail is stored before it is
//! routed, and posts and mails are queued in outbox tables with fixed ids before they are sent.

pub mod app;
pub mod applications;
pub mod calendar;
pub mod cli;
pub mod commands;
pub mod config;
pub mod failpoint;
pub mod http;
pub mod mail;
pub mod markup;
pub mod matrix;
pub mod storage;
pub mod supervise;
