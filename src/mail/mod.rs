//! Mail: in over IMAP ([`imap`], stored by [`inbound`]), understood by [`pipeline`]
//! ([`automatic`] detection, [`route`]ing, [`render`]ing for a room), out over SMTP
//! through a durable [`outbox`]; [`thread`]s map both ways. [`trust`] says who a mail is from
//! and whether our receiving server vouched for it.

pub mod automatic;
pub mod imap;
pub mod inbound;
pub mod outbox;
pub mod pipeline;
pub mod render;
pub mod route;
pub mod thread;
mod tls;
pub mod trust;
