//! The command line: `buzon [--config PATH] [--now RFC3339] COMMAND`.
//! This is the only place where errors become exit codes:
//! 0 ok, 1 ran and found problems (failing rule tests), 2 error.

mod backup;
mod check;
mod classify;
mod dry_run;
mod extract_worker;
mod lists;
mod login;
mod replay;
mod restore;
mod rules_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::clock::Clock;
use crate::query::{self, Query};

/// buzon: the customs desk's mail agent.
#[derive(Debug, Parser)]
#[command(name = "buzon", version = crate::logs::version(), about, long_about = None)]
pub struct Cli {
    /// Config file; relative paths inside it are resolved against its folder.
    #[arg(long, global = true, default_value = "config.toml", env = "BUZON_CONFIG")]
    pub config: PathBuf,
    /// Fix the clock (RFC 3339), for replays and tests.
    #[arg(long, global = true)]
    pub now: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Watch the mailbox and work until SIGTERM/SIGINT (SIGHUP reloads the files).
    Run {
        /// Drain the mailbox, flush the outbox, exit 0.
        #[arg(long)]
        once: bool,
    },
    /// Parse and classify messages; no side effects. A folder means every
    /// regular file in it, recursively, whatever its name.
    Classify(classify::Args),
    /// Check or test the rule files.
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
    /// Customs orders.
    #[command(subcommand)]
    Orders(lists::OrdersCommand),
    /// Reclamos with their due times and state.
    #[command(subcommand)]
    Reclamos(lists::RecordCommand),
    /// Tasks for assistants.
    #[command(subcommand)]
    Tasks(lists::RecordCommand),
    /// Outgoing mail and its state; hold, release or cancel it.
    #[command(subcommand)]
    Outbox(lists::OutboxCommand),
    /// Send a mail that went to triage (`T-…`) or quarantine (its file
    /// name) through the desk again, after a rule fix (once; its task is closed).
    Reprocess {
        id: String,
        /// Who (recorded; default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Assistant and supervisor digests.
    #[command(subcommand)]
    Digest(DigestCommand),
    /// The extraordinary services (glosa 10110) recorded in a month: the
    /// rows of the executives' monthly report.
    Extras {
        /// The month, `2026-11`.
        #[arg(long)]
        month: String,
        /// table, json (JSON Lines) or csv (UTF-8 with BOM, the report's attachment).
        #[arg(long, value_enum, default_value_t = query::Format::Table)]
        format: query::Format,
    },
    /// Test the configured mailbox and outbox step by step (address, TCP,
    /// TLS, certificate, login or token, folders; greeting, EHLO, STARTTLS,
    /// AUTH), each step ✓ or ✗ with a fix. Exit 0 when none failed.
    Check(check::Args),
    /// OAuth2 `grant = "refresh_token"`: log in once on any device (the
    /// device-code flow) and keep the first refresh token in the store.
    Login(login::Args),
    /// Source, outbox and store health.
    Status {
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent backup archive (store, attachments, config,
    /// clients, rules), also while the daemon runs; --verify checks one.
    Backup(backup::Args),
    /// Make a new folder a complete instance from a backup archive.
    Restore(restore::Args),
    /// The attachment extractor child that buzon starts itself (internal).
    #[command(name = "extract-worker", hide = true)]
    ExtractWorker,
}

#[derive(Debug, Subcommand)]
pub enum DigestCommand {
    /// Render the digest as it would be sent now (all assistants when --to is absent).
    Preview {
        #[arg(long)]
        to: Option<String>,
        /// One JSON object per digest (to, subject, text, html, the digest's data).
        #[arg(long)]
        json: bool,
    },
}

/// How a command ended when it did not fail.
pub enum Exit {
    Ok,
    /// It ran, and found problems (e.g. failing rule tests).
    Problems,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::ExtractWorker) {
        extract_worker::enable();
    }
    let result = run(cli);
    extract_worker::finish();
    match result {
        Ok(Exit::Ok) => ExitCode::SUCCESS,
        Ok(Exit::Problems) => ExitCode::from(1),
        Err(e) => {
            crate::logs::fatal(&e);
            ExitCode::from(2)
        }
    }
}

/// The daemon's logging, as its config's `[log]` says (a config that does
/// not load: the default, and the run reports why).
fn init_logs(config: &std::path::Path) {
    let format = crate::config::Config::load(config).map(|c| c.log.format).unwrap_or_default();
    crate::logs::init(format);
}

pub fn run(cli: Cli) -> anyhow::Result<Exit> {
    let clock = Clock::from_flag(cli.now.as_deref())?;
    let now = clock.now();
    let q =
        |query: Query| query::execute(&cli.config, now, query).map(|well| if well { Exit::Ok } else { Exit::Problems });
    match cli.command {
        Command::Run { once } => {
            init_logs(&cli.config);
            let r = crate::daemon::run(&cli.config, clock, once)?;
            if crate::logs::json() && once {
                // Under JSON logging stderr holds only log lines; the summary is the run's output.
                let summary = serde_json::json!({"processed": r.processed, "already_done": r.already_done,
                    "quarantined": r.quarantined, "sent": r.sent});
                println!("{summary}");
            }
            tracing::info!(
                processed = r.processed,
                already_done = r.already_done,
                quarantined = r.quarantined,
                sent = r.sent,
                "Done: {} processed, {} already done, {} quarantined, {} mails sent",
                r.processed,
                r.already_done,
                r.quarantined,
                r.sent
            );
            Ok(Exit::Ok)
        }
        Command::Backup(args) => {
            init_logs(&cli.config);
            backup::execute(&cli.config, args)
        }
        Command::Restore(args) => restore::execute(args),
        Command::Classify(args) => classify::execute(&cli.config, args, now),
        Command::Rules(cmd) => rules_cmd::execute(&cli.config, cmd, now),
        Command::Check(args) => check::execute(&cli.config, args),
        Command::Login(args) => login::execute(&cli.config, args),
        Command::Orders(lists::OrdersCommand::List(a)) => {
            q(Query::Orders { show: None, json: false, list: a.options(&cli.config)? })
        }
        Command::Orders(lists::OrdersCommand::Show { id, json }) => {
            q(Query::Orders { show: Some(id), json, list: Default::default() })
        }
        Command::Orders(lists::OrdersCommand::Export { id, to, zip }) => {
            match (zip, to) {
                (Some(file), _) => print!("{}", lists::export_zip(&cli.config, now, &id, &file)?),
                (None, Some(to)) => print!("{}", lists::export(&cli.config, now, &id, &to)?),
                (None, None) => anyhow::bail!("orders export {id}: give --to FOLDER or --zip FILE"),
            }
            Ok(Exit::Ok)
        }
        Command::Reclamos(lists::RecordCommand::List(a)) => {
            q(Query::Reclamos { show: None, json: false, list: a.options(&cli.config)? })
        }
        Command::Reclamos(lists::RecordCommand::Show { id, json }) => {
            q(Query::Reclamos { show: Some(id), json, list: Default::default() })
        }
        Command::Tasks(lists::RecordCommand::List(a)) => {
            q(Query::Tasks { show: None, json: false, list: a.options(&cli.config)? })
        }
        Command::Tasks(lists::RecordCommand::Show { id, json }) => {
            q(Query::Tasks { show: Some(id), json, list: Default::default() })
        }
        Command::Outbox(cmd) => q(lists::outbox_query(cmd, &cli.config)?),
        Command::Reprocess { id, by } => {
            q(Query::Control(query::Control::Reprocess { target: id, by: lists::who(by) }))
        }
        Command::Status { json } => q(Query::Status { json }),
        Command::Digest(DigestCommand::Preview { to, json }) => q(Query::Digest { to, json }),
        Command::Extras { month, format } => {
            if crate::desk::extras::parse_month(&month).is_none() {
                anyhow::bail!("--month `{month}` is not a month YYYY-MM (e.g. 2026-11)");
            }
            q(Query::Extras { month, list: query::ListOptions { format, ..Default::default() } })
        }
        Command::ExtractWorker => extract_worker::execute(),
    }
}
