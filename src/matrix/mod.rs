//! Matrix, as an edge: the bot's session and stores ([`client`]), the sync loop and event
//! handlers ([`sync`]), and the outbox's Matrix transport ([`transport`]).

pub mod client;
pub mod setup;
pub mod sync;
pub mod transport;
