//! Everything loaded from the business's files: config, clients, rules and
//! templates. Loaded at start-up (and on SIGHUP); a bad file is refused with
//! all its problems and the previous set stays in force.

use crate::clients::Directory;
use crate::config::Config;
use crate::desk::{Desk, Settings};
use crate::diag::Diagnostics;
use crate::rules::RuleSet;
use crate::templates::Templates;

pub struct App {
    pub config: Config,
    pub rules: RuleSet,
    pub directory: Directory,
    pub templates: Templates,
    pub settings: Settings,
    /// What the scheduler's index is computed with (see `desk::deadlines::signature`).
    schedule_signature: String,
}

impl App {
    pub fn load(config: &std::path::Path) -> Result<App, Diagnostics> {
        let config = Config::load(config)?;
        let mut errors = Vec::new();
        let rules = RuleSet::load(&config.rules_path).map_err(|d| errors.extend(d.0)).ok();
        let stages = rules.as_ref().map(|r| r.desk.stages.as_slice());
        let clients = crate::clients::load_all(&config.clients_path, stages).map_err(|d| errors.extend(d.0)).ok();
        // The desk's own people are never a third party: their commands must work.
        for p in clients.iter().flat_map(|(_, counterparts)| counterparts) {
            for a in &p.addresses {
                let domain = a.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
                if config.staff_domains.iter().any(|d| d == domain) {
                    errors.push(crate::diag::Diagnostic::file(
                        &config.clients_path,
                        format!(
                            "counterpart {}: `{a}` is in the staff domain {domain} (config.toml staff_domains):                              staff are never a counterpart",
                            p.id
                        ),
                    ));
                }
            }
        }
        let templates = Templates::load(&config.rules_path.join("templates")).map_err(|d| errors.extend(d)).ok();
        match (rules, clients, templates) {
            (Some(rules), Some((clients, counterparts)), Some(templates)) if errors.is_empty() => {
                let directory = Directory::new(&config, clients).with_counterparts(counterparts);
                let settings = config.desk.clone();
                let schedule_signature = crate::desk::deadlines::signature(&settings, &rules.desk);
                Ok(App { config, rules, directory, templates, settings, schedule_signature })
            }
            _ => Err(Diagnostics(errors)),
        }
    }

    /// The desk, for decisions.
    pub fn desk(&self) -> Desk<'_> {
        Desk { settings: &self.settings, directory: &self.directory, rules: &self.rules, templates: &self.templates }
    }

    pub fn schedule_signature(&self) -> &str {
        &self.schedule_signature
    }

    pub fn parse_options(&self) -> crate::mail::ParseOptions {
        crate::mail::ParseOptions {
            authserv_id: self.config.authserv_id.clone(),
            auth_results: self.config.auth_results,
            limits: self.config.limits.clone(),
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
            crate::rules::Facts::of(&mail, sender.role(), &|a| self.directory.sender(a).role()),
        );
        (mail, c)
    }

    /// Parse and classify one raw message, saying why (`classify --explain`).
    pub fn explain(&self, raw: &[u8]) -> crate::rules::explain::Explanation {
        let mail = crate::mail::parse(raw, &self.parse_options());
        let sender = self.directory.sender(mail.from_address());
        crate::rules::explain::explain(
            &self.rules,
            &mail,
            crate::rules::Facts::of(&mail, sender.role(), &|a| self.directory.sender(a).role()),
        )
    }
}

/// The business files in force, shared by the daemon's tasks; SIGHUP swaps
/// them (a refused reload leaves the previous ones).
#[derive(Clone)]
pub struct AppCell(std::sync::Arc<std::sync::Mutex<std::sync::Arc<App>>>);

impl AppCell {
    pub fn new(app: App) -> AppCell {
        AppCell(std::sync::Arc::new(std::sync::Mutex::new(std::sync::Arc::new(app))))
    }

    /// The files in force now (a poisoned lock still holds a whole `App`).
    pub fn current(&self) -> std::sync::Arc<App> {
        match self.0.lock() {
            Ok(a) => a.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn replace(&self, app: App) {
        let new = std::sync::Arc::new(app);
        match self.0.lock() {
            Ok(mut a) => *a = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }
}
