//! `buzon rules check` and `buzon rules test`.

use std::path::Path;

use super::Exit;
use crate::config::Config;
use crate::rules::RuleSet;

#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// Load and validate the rules and templates; errors as file:line:col.
    Check {
        /// One JSON object (`ok`, counts, `errors` with file/line/col/message).
        #[arg(long)]
        json: bool,
    },
    /// Run the rule tests under rules/tests (exit 1 when one fails).
    Test {
        /// Only cases whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// One JSON object (`passed`, `failed`, `failures`).
        #[arg(long)]
        json: bool,
    },
    /// Classify the mail already processed with the rule files on disk and
    /// list what would change (labels before → after); nothing changes.
    Replay(super::replay::Args),
}

pub fn execute(config_path: &Path, cmd: RulesCommand, _now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<Exit> {
    if let RulesCommand::Replay(args) = cmd {
        return super::replay::execute(config_path, args);
    }
    let config = Config::load(config_path)?;
    match cmd {
        RulesCommand::Check { json } => {
            let app = match crate::app::App::load(&config.file) {
                Ok(app) => app,
                Err(e) if json => {
                    let errors: Vec<serde_json::Value> = e
                        .0
                        .iter()
                        .map(|d| serde_json::json!({"file": d.file.display().to_string(), "line": d.line, "col": d.col, "message": d.message}))
                        .collect();
                    println!("{}", serde_json::json!({"ok": false, "errors": errors}));
                    return Ok(Exit::Problems);
                }
                Err(e) => return Err(e.into()),
            };
            let rules = &app.rules;
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "ok": true, "rules": rules.rules.len(), "document_rules": rules.documents.len(),
                        "labels": rules.labels.len(), "document_kinds": rules.kinds.len(),
                        "checklists": rules.desk.checklists.len(), "templates": crate::templates::REQUIRED.len(),
                        "languages": app.templates.languages(), "dir": rules.dir.display().to_string(), "errors": [],
                    })
                );
                return Ok(Exit::Ok);
            }
            println!(
                "ok: {} rules, {} document rules, {} labels, {} document kinds, {} checklists, {} templates in {}",
                rules.rules.len(),
                rules.documents.len(),
                rules.labels.len(),
                rules.kinds.len(),
                rules.desk.checklists.len(),
                crate::templates::REQUIRED.len(),
                rules.dir.display()
            );
            Ok(Exit::Ok)
        }
        RulesCommand::Test { filter, json } => {
            let rules = RuleSet::load(&config.rules_path)?;
            let dir = rules.dir.join("tests");
            let cases = crate::rules::test::load_cases(&dir).map_err(crate::diag::Diagnostics)?;
            let opts = crate::mail::ParseOptions {
                authserv_id: config.authserv_id.clone(),
                auth_results: config.auth_results,
                limits: config.limits.clone(),
                ..Default::default()
            };
            // The forwarded From's role, as the daemon would see it.
            let (clients, counterparts) = crate::clients::load_all(&config.clients_path, None)?;
            let directory = crate::clients::Directory::new(&config, clients).with_counterparts(counterparts);
            let role = |a: &str| directory.sender(a).role();
            let (mut passed, mut failed) = (0, 0);
            let mut failures = Vec::new();
            for case in cases {
                if filter.as_ref().is_some_and(|f| !case.name.contains(f.as_str())) {
                    continue;
                }
                let o = crate::rules::test::run_case(&rules, case, &opts, &role);
                if o.failures.is_empty() {
                    passed += 1;
                } else {
                    failed += 1;
                    if json {
                        failures
                            .push(serde_json::json!({"file": o.case.file.display().to_string(), "line": o.case.line,
                                                         "name": o.case.name, "failures": o.failures}));
                        continue;
                    }
                    println!("FAIL {}:{}: {}", o.case.file.display(), o.case.line, o.case.name);
                    for f in &o.failures {
                        println!("    {f}");
                    }
                }
            }
            if json {
                println!("{}", serde_json::json!({"passed": passed, "failed": failed, "failures": failures}));
            } else {
                println!("{passed} passed, {failed} failed");
            }
            Ok(if failed == 0 { Exit::Ok } else { Exit::Problems })
        }
        RulesCommand::Replay(_) => unreachable!("handled above"),
    }
}
