//! `convene eoi …` subcommands (to be written).

use clap::Subcommand;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum EoiCmd {}

pub async fn run(cmd: EoiCmd, _config: Config) -> anyhow::Result<()> {
    match cmd {}
}
