//! Matrix, as an edge: the bot's session and stores ([`client`]), the sync loop and event
//! handlers ([`sync`]), who is of the secretariat ([`secretariat`]), and the outbox's Matrix
//! transport ([`transport`]).

pub mod client;
pub mod secretariat;
pub mod setup;
pub mod sync;
pub mod transport;
