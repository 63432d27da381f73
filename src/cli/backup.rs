//! `buzon backup FILE` and `buzon backup --verify FILE`.

use std::path::PathBuf;

use super::Exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The archive (`.tar.gz`) to write, or with --verify to check. Written
    /// through the running daemon when one runs (its user must be able to
    /// write there), else by this process.
    pub file: PathBuf,
    /// Check an archive: every member against its manifest, and the store,
    /// config, clients and rules restored into a scratch folder.
    #[arg(long)]
    pub verify: bool,
    /// Print the outcome as one JSON object.
    #[arg(long)]
    pub json: bool,
}

pub fn execute(config: &std::path::Path, args: Args) -> anyhow::Result<Exit> {
    let (outcome, what) = if args.verify {
        (crate::backup::verify(&args.file)?, "verified")
    } else {
        (crate::backup::backup(config, &args.file)?, "backup written:")
    };
    if args.json {
        println!("{}", serde_json::to_string(&outcome)?);
    } else {
        print!("{}", outcome.line(what));
    }
    Ok(Exit::Ok)
}
