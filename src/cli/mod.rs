//! The command line: `buzon [--config PATH] [--now RFC3339] COMMAND`.
//! This is the only place where errors become exit codes:
//! 0 ok, 1 ran and found problems (failing rule tests), 2 error.

mod classify;
mod rules_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// buzon: the customs desk's mail agent.
#[derive(Debug, Parser)]
#[command(name = "buzon", version, about, long_about = None)]
pub struct Cli {
    /// Config file; relative paths inside it are resolved against its folder.
    #[arg(
        long,
        global = true,
        default_value = "config.toml",
        env = "BUZON_CONFIG"
    )]
    pub config: PathBuf,
    /// Fix the clock (RFC 3339), for replays and tests.
    #[arg(long, global = true)]
    pub now: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and classify messages; no side effects. A folder means every
    /// regular file in it, recursively, whatever its name.
    Classify(classify::Args),
    /// Check or test the rule files.
    #[command(subcommand)]
    Rules(rules_cmd::RulesCommand),
}

/// How a command ended when it did not fail.
pub enum Outcome {
    Ok,
    /// It ran, and found problems (e.g. failing rule tests).
    Problems,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        Err(e) => {
            eprintln!("buzon: {e:#}");
            ExitCode::from(2)
        }
    }
}

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Classify(args) => classify::execute(&cli.config, args),
        Command::Rules(cmd) => rules_cmd::execute(&cli.config, cmd),
    }
}

/// The loaded configuration, rules and clients that most commands need.
pub struct Setup {
    pub config: crate::config::Config,
    pub rules: crate::rules::RuleSet,
    pub directory: crate::clients::Directory,
}

impl Setup {
    pub fn load(config: &std::path::Path) -> anyhow::Result<Setup> {
        let config = crate::config::Config::load(config)?;
        let rules = crate::rules::RuleSet::load(&config.rules_path)?;
        let clients = crate::clients::load(&config.clients_path)?;
        let directory = crate::clients::Directory::new(&config, clients);
        Ok(Setup {
            config,
            rules,
            directory,
        })
    }

    pub fn parse_options(&self) -> crate::mail::ParseOptions {
        crate::mail::ParseOptions {
            authserv_id: self.config.desk().authserv_id.clone(),
            ..Default::default()
        }
    }

    /// Parse and classify one raw message.
    pub fn classify(&self, raw: &[u8]) -> (crate::mail::Mail, crate::rules::Classification) {
        let mail = crate::mail::parse(raw, &self.parse_options());
        let sender = self.directory.sender(mail.from_address());
        let c = crate::rules::classify(
            &self.rules,
            &mail,
            crate::rules::Facts {
                sender: sender.role(),
            },
        );
        (mail, c)
    }
}
