//! Expressions of interest: reading them from mail ([`extract`]), taking them in ([`intake`]:
//! record, acknowledgement, card; the call from [`calls`], the replies from [`replies`]), storing them ([`store`]), the secretariat's review
//! ([`commands`], [`review`]), mail [`templates`], the room [`card`], [`export`] and the
//! CLI ([`cli`]).

pub mod calls;
pub mod card;
pub mod cli;
pub mod commands;
pub mod export;
pub mod extract;
pub mod intake;
pub mod replies;
pub mod review;
pub mod store;
pub mod templates;

#[cfg(test)]
mod tests;
