//! `convene calendar …` subcommands (to be written).

use clap::Subcommand;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum CalendarCmd {}

pub async fn run(cmd: CalendarCmd, _config: Config) -> anyhow::Result<()> {
    match cmd {}
}
