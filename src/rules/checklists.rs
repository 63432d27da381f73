//! The desk's business data from `rules/`: checklists per regime, the stage
//! list, alert kinds and how to infer a regime. Data, not code: the rule
//! loader reads it, the desk uses it.

use std::path::Path;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

use crate::diag::{Diagnostic, deserialize_value};

/// The documents a customs regime needs.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checklist {
    /// Regime code (`10`, `40`, `20`…), as inside a DAM number.
    pub regime: String,
    /// Name shown to clients ("Importación para el consumo").
    pub name: String,
    /// Document kinds that must be received.
    pub required: Vec<String>,
    /// Document kinds that help but are not required.
    #[serde(default)]
    pub optional: Vec<String>,
    /// Text that suggests this regime in a mail (regex, accent-insensitive).
    #[serde(default)]
    pub hint: Option<String>,
    /// Default regime when nothing else tells.
    #[serde(default)]
    pub default: bool,
}

/// An internal alert kind ("Tipo:" line of an Alertas CLI mail).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertKind {
    /// Short id (`tributos`, `regularizacion`…).
    pub kind: String,
    /// Regex on the alert's "Tipo:" text (accent-insensitive).
    pub tipo: String,
    /// Reminders this many days before the deadline.
    #[serde(default)]
    pub remind_days_before: Vec<u32>,
}

/// What an order's file (expediente) needs before it is archived, per
/// regime: document kinds (`rules/labels.toml`) and the two items that are
/// not documents, [`LEVANTE`] and [`LIQUIDACION`] (see `desk::closing`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClosingList {
    /// A regime of a `[[checklist]]`.
    pub regime: String,
    pub required: Vec<String>,
}

/// Closing item: the order reached the stage `levante` (or a later one).
pub const LEVANTE: &str = "levante";
/// Closing item: the duties' liquidation is paid (see `desk::closing`).
pub const LIQUIDACION: &str = "liquidacion";

/// Compiled desk data.
#[derive(Debug, Clone, Default)]
pub struct DeskRules {
    pub checklists: Vec<Checklist>,
    pub hints: Vec<(String, Regex)>,
    pub stages: Vec<String>,
    pub alerts: Vec<(AlertKind, Regex)>,
    /// Closing lists per regime (`[[closing]]`); a regime without one
    /// needs nothing to be archived.
    pub closings: Vec<ClosingList>,
}

impl DeskRules {
    pub fn checklist(&self, regime: &str) -> Option<&Checklist> {
        self.checklists.iter().find(|c| c.regime == regime)
    }

    pub fn default_regime(&self) -> Option<&str> {
        self.checklists.iter().find(|c| c.default).or(self.checklists.first()).map(|c| c.regime.as_str())
    }

    /// The closing list of a regime.
    pub fn closing(&self, regime: &str) -> Option<&ClosingList> {
        self.closings.iter().find(|c| c.regime == regime)
    }

    /// The regime a text suggests, by the checklists' hints.
    pub fn regime_from_text(&self, text: &str) -> Option<&str> {
        let folded = crate::text::fold(text);
        self.hints.iter().find(|(_, re)| re.is_match(&folded)).map(|(r, _)| r.as_str())
    }

    /// The alert kind whose `tipo` pattern matches.
    pub fn alert_kind(&self, tipo: &str) -> Option<&AlertKind> {
        let folded = crate::text::fold(tipo);
        self.alerts.iter().find(|(_, re)| re.is_match(&folded)).map(|(a, _)| a)
    }
}

/// Collects desk data across rule files, then validates it.
#[derive(Default)]
pub struct DeskRulesBuilder {
    out: DeskRules,
    stages_seen: bool,
    /// Each closing list's regime, with the error to report (at its line)
    /// if no `[[checklist]]` declares it: checked once every file is read.
    closing_regimes: Vec<(String, Diagnostic)>,
}

fn compile(pattern: &str) -> Result<Regex, String> {
    regex::RegexBuilder::new(&crate::text::strip_accents(pattern))
        .case_insensitive(true)
        .build()
        .map_err(|e| e.to_string())
}

impl DeskRulesBuilder {
    pub fn add(
        &mut self,
        key: &str,
        file: &Path,
        text: &str,
        value: &Spanned<DeValue<'_>>,
        kinds: &[String],
        errors: &mut Vec<Diagnostic>,
    ) {
        let here = |msg: String| Diagnostic::at(file, text, Some(value.span()), msg);
        match key {
            "checklist" => match deserialize_value::<Vec<Checklist>>(file, text, value) {
                Ok(list) => {
                    for c in list {
                        for k in c.required.iter().chain(&c.optional) {
                            if !kinds.contains(k) {
                                errors.push(here(format!("checklist {}: unknown document kind `{k}`", c.regime)));
                            }
                        }
                        if let Some(h) = &c.hint {
                            match compile(h) {
                                Ok(re) => self.out.hints.push((c.regime.clone(), re)),
                                Err(e) => errors.push(here(format!("checklist {}: bad hint: {e}", c.regime))),
                            }
                        }
                        if self.out.checklists.iter().any(|x| x.regime == c.regime) {
                            errors.push(here(format!("two checklists for regime {}", c.regime)));
                        }
                        self.out.checklists.push(c);
                    }
                }
                Err(d) => errors.push(d),
            },
            "stages" => match deserialize_value::<Vec<String>>(file, text, value) {
                Ok(v) => {
                    if self.stages_seen {
                        errors.push(here("`stages` is declared twice".into()));
                    }
                    self.stages_seen = true;
                    self.out.stages = v;
                }
                Err(d) => errors.push(d),
            },
            "alert" => match deserialize_value::<Vec<AlertKind>>(file, text, value) {
                Ok(list) => {
                    for a in list {
                        match compile(&a.tipo) {
                            Ok(re) => self.out.alerts.push((a, re)),
                            Err(e) => errors.push(here(format!("alert {}: bad `tipo` pattern: {e}", a.kind))),
                        }
                    }
                }
                Err(d) => errors.push(d),
            },
            "closing" => match deserialize_value::<Vec<ClosingList>>(file, text, value) {
                Ok(list) => {
                    for c in list {
                        for k in &c.required {
                            if !kinds.contains(k) && k != LEVANTE && k != LIQUIDACION {
                                let hint = crate::desk::suggest::did_you_mean(
                                    k,
                                    &kinds.iter().map(String::as_str).chain([LEVANTE, LIQUIDACION]).collect::<Vec<_>>(),
                                );
                                errors.push(here(format!(
                                    "closing {}: unknown item `{k}`;{hint} use a document kind, `{LEVANTE}` or `{LIQUIDACION}`",
                                    c.regime
                                )));
                            }
                        }
                        if self.out.closings.iter().any(|x| x.regime == c.regime) {
                            errors.push(here(format!("two closing lists for regime {}", c.regime)));
                        }
                        let unknown =
                            here(format!("closing {}: unknown regime (no [[checklist]] declares it)", c.regime));
                        self.closing_regimes.push((c.regime.clone(), unknown));
                        self.out.closings.push(c);
                    }
                }
                Err(d) => errors.push(d),
            },
            _ => errors.push(here(format!("`{key}` is not used yet"))),
        }
    }

    pub fn finish(self, dir: &Path, errors: &mut Vec<Diagnostic>) -> DeskRules {
        for (regime, unknown) in self.closing_regimes {
            if self.out.checklist(&regime).is_none() {
                errors.push(unknown);
            }
        }
        if self.out.checklists.is_empty() {
            errors.push(Diagnostic::file(
                dir,
                "no [[checklist]] declared: the desk needs at least one regime's document list",
            ));
        }
        if self.out.stages.is_empty() {
            errors.push(Diagnostic::file(
                dir,
                "no `stages` declared (e.g. stages = [\"abierta\", \"documentos completos\", …])",
            ));
        }
        self.out
    }
}
