//! convene — the secretariat of a set of working groups, between one functional mailbox and a
//! Matrix space.
//!
//! # Layout
//! Dependencies run one way, from the bottom of this list to its top:
//! - [`daemon`]: the composition root — builds everything, names and supervises the workers,
//!   and the command line. Nothing imports it.
//! - [`matrix`], [`http`]: edges — the Matrix session, sync and handlers, the outbox's Matrix
//!   transport; `/healthz` and the calendar feeds.
//! - [`commands`]: chat commands, dispatched to the domains; shared by rooms and the CLI.
//! - [`bridge`]: the mail path as workers and tables — IMAP in, the inbound table, the
//!   pipeline, threads both ways, the outbox's SMTP transport.
//! - [`applications`], [`calendar`]: the domains — expressions of interest; calls, deadlines,
//!   meetings, reminders. Pure cores with their stores beside them.
//! - [`mail`]: mail as data — automatic-mail detection, routing, rendering, composing.
//! - [`outbox`]: every side effect, queued in the caller's transaction under a typed key and
//!   sent by one runner with retries for days; [`chat`]: invocations, replies and event content;
//!   [`markup`]: every value from mail made inert before it enters Markdown or HTML.
//! - [`config`], [`storage`], [`health`], [`failpoint`]: the bottom — parsed configuration,
//!   the database, the daemon's view of itself, crash points for tests.
//!
//! Every side effect is persisted before it is performed: inbound mail is stored before it is
//! routed, and posts, invites, uploads and mails are queued in the outbox with fixed keys
//! before they are sent.

pub mod applications;
pub mod audit;
pub mod bridge;
pub mod calendar;
pub mod chat;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod failpoint;
pub mod health;
pub mod http;
pub mod lease;
pub mod mail;
pub mod markup;
pub mod matrix;
pub mod metrics;
pub mod outbox;
pub mod privacy;
pub mod storage;
