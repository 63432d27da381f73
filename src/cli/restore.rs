//! `buzon restore FILE --to DIR`.

use std::path::PathBuf;

use super::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The archive written by `buzon backup`.
    pub file: PathBuf,
    /// A new or empty folder that becomes a complete instance (its own
    /// config.toml, store, attachments, clients and rules). Never a folder
    /// that holds a store.
    #[arg(long)]
    pub to: PathBuf,
    /// Print the outcome as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn execute(args: Args) -> anyhow::Result<Exit> {
    let outcome = crate::backup::restore(&args.file, &args.to)?;
    if args.json {
        println!("{}", serde_json::to_string(&outcome)?);
    } else {
        print!("{}", outcome.line("restored"));
        println!(
            "The instance is in {}: check it with `buzon --config {}/config.toml status`, run it with `buzon --config {}/config.toml run`.",
            args.to.display(),
            args.to.display(),
            args.to.display()
        );
    }
    Ok(Exit::Ok)
}
