//! `convene eoi …` subcommands: `parse FILE.eml` prints what the daemon would read from a mail
//! (no database), `export` prints the applications for the selection committee.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};

use super::{export, intake, store};
use crate::config::Config;
use crate::storage::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum EoiCmd {
    /// Print the record extracted from a mail file as JSON (uses the configured groups).
    Parse { file: PathBuf },
    /// Print the applications as CSV or JSON.
    Export {
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// Only applications naming (or accepted into) this group.
        #[arg(long)]
        group: Option<String>,
        /// Only applications with this status.
        #[arg(long)]
        status: Option<String>,
    },
}

pub async fn run(cmd: EoiCmd, config: Config) -> anyhow::Result<()> {
    match cmd {
        EoiCmd::Parse { file } => {
            let raw =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let json = intake::parse_json(&config, &raw)?;
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        EoiCmd::Export {
            format,
            group,
            status,
        } => {
            if let Some(s) = &status
                && !store::STATUSES.contains(&s.as_str())
            {
                anyhow::bail!(
                    "unknown status `{s}` (one of {})",
                    store::STATUSES.join(", ")
                );
            }
            let db = Db::connect(&config.database_url()?, config.database.max_connections).await?;
            let eois = store::list(&db, group.as_deref(), status.as_deref()).await?;
            let actor = crate::audit::cli_actor();
            let what = format!("{} application(s)", eois.len());
            crate::audit::record(&db.pool, &actor, "eoi.export", &what, None).await?;
            match format {
                Format::Csv => print!("{}", export::csv(&eois)),
                Format::Json => println!("{}", serde_json::to_string_pretty(&export::json(&eois))?),
            }
        }
    }
    Ok(())
}
