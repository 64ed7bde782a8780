//! Mail as data, without I/O: recognising automatic mail ([`automatic`], RFC 3834), which
//! group a mail is for ([`route`]), who sent it and whether that is verified ([`trust`]), how
//! a mail looks in a room ([`render`]: its [`html`] sanitised, its [`quote`]d history and
//! signature folded), and building the mail convene sends ([`compose`]). The stateful mail
//! path — IMAP, the inbound table, the pipeline, threads, SMTP — is the `bridge` module.

pub mod automatic;
pub mod compose;
pub mod dsn;
pub mod html;
pub mod quote;
pub mod render;
pub mod route;
pub mod trust;
