//! `buzon check [--send-to ADDR] [--json]`: the mailbox and the outbox
//! tested step by step (see `crate::check`). Exit 0 when no step failed
//! (skipped steps, e.g. the token while the daemon runs, do not fail), 1
//! when one did, 2 when the config cannot be read.

use std::io::Write;
use std::path::Path;

use super::Exit;
use crate::check::{self, Report, Status, Step};
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Also send a short test mail (in Spanish, from the desk's address) to
    /// ADDR through the outbox, and show the server's answer.
    #[arg(long, value_name = "ADDR")]
    pub send_to: Option<String>,
    /// One JSON object per step (JSON Lines: part, step, status, detail, fix).
    #[arg(long)]
    pub json: bool,
}

pub fn execute(config_path: &Path, args: Args) -> anyhow::Result<Exit> {
    let config = Config::load(config_path)?;
    if let Some(to) = &args.send_to
        && !crate::config::valid_address(to)
    {
        anyhow::bail!("--send-to `{to}` is not a mail address");
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let json = args.json;
    if !json {
        println!("buzon check — {}", check::describe(&config));
    }
    let print = move |s: &Step| {
        let line = if json { serde_json::to_string(s).unwrap_or_default() } else { s.line() };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    let mut report = Report::new(print);
    let opts = check::Options { send_to: args.send_to };
    runtime.block_on(check::run(&config, &opts, &mut report));
    let (failed, skipped, total) = (report.count(Status::Fail), report.count(Status::Skip), report.steps().len());
    if !json {
        let skipped = if skipped > 0 { format!(", {skipped} skipped") } else { String::new() };
        if failed == 0 {
            println!("All {} steps passed{skipped}.", total - report.count(Status::Skip));
        } else {
            println!("{failed} of {total} steps failed{skipped}.");
        }
    }
    Ok(if failed == 0 { Exit::Ok } else { Exit::Problems })
}
