//! Mail: in over IMAP ([`imap`], stored by [`inbound`]), understood by [`pipeline`]
//! ([`automatic`] detection, [`route`]ing, [`render`]ing for a room with its [`html`]
//! sanitised and its [`quote`]d history folded), out over SMTP through a durable [`outbox`];
//! [`thread`]s map both ways.

pub mod automatic;
pub mod html;
pub mod imap;
pub mod inbound;
pub mod outbox;
pub mod pipeline;
pub mod quote;
pub mod render;
pub mod route;
pub mod thread;
mod tls;
