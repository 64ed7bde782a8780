//! The bridge between the mailbox and the rooms, as workers and tables: IMAP in ([`imap`]),
//! every fetched message stored before anything acts on it ([`inbound`]), the [`pipeline`]
//! that decides what each mail is and queues its effects, [`thread`]s both ways, and the
//! SMTP transport of the outbox ([`smtp`]); the [`conversation`]s bridged to threads and the
//! [`bounce`] scores of recipients.

pub mod bounce;
pub mod conversation;
pub mod imap;
pub mod inbound;
pub mod pipeline;
pub mod smtp;
pub mod thread;
mod tls;
