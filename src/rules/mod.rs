//! Rule files: load, compile, evaluate, test.
//!
//! Everything under `rules/*.toml` is business data: labels and document
//! kinds, classification rules (`[[rule]]`), document rules (`[[document]]`),
//! and the desk's checklists, stages and alert kinds. Loading collects every
//! problem of every file as `file:line:col: message`.

pub mod checklists;
pub mod compile;
pub mod eval;
pub mod explain;
pub mod syntax;
pub mod test;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diag::{Diagnostic, Diagnostics, deserialize_value, suggest};
use checklists::{DeskRules, DeskRulesBuilder};
use compile::{Compiler, Cond, FieldSet, PatternTable};
pub use eval::{Classification, DocumentMatch, Facts, classify};

/// One compiled `[[rule]]`.
#[derive(Debug)]
pub struct Rule {
    pub id: String,
    pub labels: Vec<String>,
    pub exclude: Vec<String>,
    pub exclusive: bool,
    pub stop: bool,
    pub cond: Cond,
}

/// One compiled `[[document]]`.
#[derive(Debug)]
pub struct DocRule {
    pub id: String,
    pub kind: String,
    pub cond: Cond,
}

/// Everything loaded from the rules folder.
pub struct RuleSet {
    /// The folder the rules came from.
    pub dir: PathBuf,
    pub labels: Vec<String>,
    pub kinds: Vec<String>,
    /// Label given when no rule gives one.
    pub fallback: String,
    pub rules: Vec<Rule>,
    pub documents: Vec<DocRule>,
    pub(crate) sets: Vec<FieldSet>,
    pub(crate) pattern_count: usize,
    /// Checklists, stages, alert kinds (the desk's data).
    pub desk: DeskRules,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet").field("dir", &self.dir).field("rules", &self.rules.len()).finish()
    }
}

const TOP_KEYS: &[&str] = &[
    "labels",
    "document_kinds",
    "fallback_label",
    "rule",
    "document",
    "checklist",
    "stages",
    "alert",
    "regime_hint",
    "closing",
];

struct SourceFile {
    path: PathBuf,
    text: String,
}

/// The `*.toml` files of a folder, sorted by name.
fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let rd = std::fs::read_dir(dir).map_err(|e| Diagnostic::file(dir, format!("cannot read the rules folder: {e}")))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

impl RuleSet {
    /// Load and compile every rule file in `dir`.
    pub fn load(dir: &Path) -> Result<RuleSet, Diagnostics> {
        let mut errors = Vec::new();
        let files = toml_files(dir).map_err(|d| Diagnostics(vec![d]))?;
        if files.is_empty() {
            return Err(Diagnostics(vec![Diagnostic::file(dir, "no rule files (*.toml) in this folder")]));
        }
        let mut sources = Vec::new();
        for path in files {
            match std::fs::read_to_string(&path) {
                Ok(text) => sources.push(SourceFile { path, text }),
                Err(e) => errors.push(Diagnostic::file(&path, format!("cannot read: {e}"))),
            }
        }
        let mut tables: Vec<(&SourceFile, Spanned<DeTable<'_>>)> = Vec::new();
        for s in &sources {
            match DeTable::parse(&s.text) {
                Ok(t) => tables.push((s, t)),
                Err(e) => errors.push(crate::diag::from_toml(&s.path, &s.text, &e)),
            }
        }

        // Pass 1: declarations.
        let mut labels: Vec<String> = Vec::new();
        let mut kinds: Vec<String> = Vec::new();
        let mut fallback: Option<Spanned<String>> = None;
        let mut fallback_at: Option<(&Path, &str)> = None;
        for (src, table) in &tables {
            for (key, value) in table.get_ref().iter() {
                let k = key.get_ref().as_ref();
                match k {
                    "labels" => match deserialize_value::<Vec<String>>(&src.path, &src.text, value) {
                        Ok(v) => labels.extend(v),
                        Err(d) => errors.push(d),
                    },
                    "document_kinds" => match deserialize_value::<Vec<String>>(&src.path, &src.text, value) {
                        Ok(v) => kinds.extend(v),
                        Err(d) => errors.push(d),
                    },
                    "fallback_label" => match deserialize_value::<Spanned<String>>(&src.path, &src.text, value) {
                        Ok(v) => {
                            fallback = Some(v);
                            fallback_at = Some((&src.path, &src.text));
                        }
                        Err(d) => errors.push(d),
                    },
                    _ if TOP_KEYS.contains(&k) => {}
                    _ => {
                        let hint = suggest(k, TOP_KEYS).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
                        errors.push(Diagnostic::at(
                            &src.path,
                            &src.text,
                            Some(key.span()),
                            format!("unknown key `{k}`{hint}; a rule file may hold: {}", TOP_KEYS.join(", ")),
                        ));
                    }
                }
            }
        }
        if labels.is_empty() {
            errors.push(Diagnostic::file(dir, "no labels declared: add `labels = [\"documentos\", …]` to a rule file"));
        }
        let fallback_label = match (&fallback, fallback_at) {
            (Some(f), Some((path, text))) => {
                if !labels.contains(f.get_ref()) {
                    errors.push(Diagnostic::at(
                        path,
                        text,
                        Some(f.span()),
                        format!("fallback label `{}` is not declared in `labels`", f.get_ref()),
                    ));
                }
                f.get_ref().clone()
            }
            _ => "otro".to_string(),
        };

        // Pass 2: rules, document rules, desk data.
        let mut table = PatternTable::default();
        let mut rules = Vec::new();
        let mut documents = Vec::new();
        let mut seen_ids: BTreeMap<String, String> = BTreeMap::new();
        let mut desk = DeskRulesBuilder::default();
        for (src, t) in &tables {
            for (key, value) in t.get_ref().iter() {
                let k = key.get_ref().as_ref();
                let items = || -> Vec<&Spanned<DeValue<'_>>> {
                    value.get_ref().as_array().map(|a| a.iter().collect()).unwrap_or_default()
                };
                match k {
                    "rule" | "document" if value.get_ref().as_array().is_none() => {
                        errors.push(Diagnostic::at(
                            &src.path,
                            &src.text,
                            Some(value.span()),
                            format!("`{k}` must be an array of tables: write [[{k}]]"),
                        ));
                    }
                    "rule" => {
                        for item in items() {
                            let raw: syntax::RawRule = match deserialize_value(&src.path, &src.text, item) {
                                Ok(r) => r,
                                Err(d) => {
                                    errors.push(d);
                                    continue;
                                }
                            };
                            check_id(&raw.id, &src.path, &src.text, &mut seen_ids, &mut errors);
                            let mut c = Compiler {
                                file: &src.path,
                                text: &src.text,
                                labels: &labels,
                                kinds: &kinds,
                                table: &mut table,
                                errors: &mut errors,
                                in_document_rule: false,
                            };
                            let rule_labels: Vec<String> = raw.labels.iter().map(|l| c.label(l)).collect();
                            let exclude: Vec<String> = raw.exclude.iter().map(|l| c.label(l)).collect();
                            let cond = c.cond(&raw.when);
                            if rule_labels.is_empty() && exclude.is_empty() && !raw.stop {
                                errors.push(Diagnostic::at(
                                    &src.path,
                                    &src.text,
                                    Some(raw.id.span()),
                                    "this rule neither adds, excludes nor stops anything",
                                ));
                            }
                            rules.push(Rule {
                                id: raw.id.into_inner(),
                                labels: rule_labels,
                                exclude,
                                exclusive: raw.exclusive,
                                stop: raw.stop || raw.exclusive,
                                cond,
                            });
                        }
                    }
                    "document" => {
                        for item in items() {
                            let raw: syntax::RawDocument = match deserialize_value(&src.path, &src.text, item) {
                                Ok(r) => r,
                                Err(d) => {
                                    errors.push(d);
                                    continue;
                                }
                            };
                            check_id(&raw.id, &src.path, &src.text, &mut seen_ids, &mut errors);
                            let mut c = Compiler {
                                file: &src.path,
                                text: &src.text,
                                labels: &labels,
                                kinds: &kinds,
                                table: &mut table,
                                errors: &mut errors,
                                in_document_rule: true,
                            };
                            let kind = c.kind(&raw.kind, false);
                            let cond = c.cond(&raw.when);
                            documents.push(DocRule { id: raw.id.into_inner(), kind, cond });
                        }
                    }
                    "checklist" | "stages" | "alert" | "regime_hint" | "closing" => {
                        desk.add(k, &src.path, &src.text, value, &kinds, &mut errors);
                    }
                    _ => {}
                }
            }
        }
        let pattern_count = table.count;
        let sets = match table.build() {
            Ok(s) => s,
            Err(e) => {
                errors.push(Diagnostic::file(dir, format!("the rules' patterns do not compile together: {e}")));
                Vec::new()
            }
        };
        let desk = desk.finish(dir, &mut errors);
        if !errors.is_empty() {
            errors.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
            return Err(Diagnostics(errors));
        }
        Ok(RuleSet {
            dir: dir.to_path_buf(),
            labels,
            kinds,
            fallback: fallback_label,
            rules,
            documents,
            sets,
            pattern_count,
            desk,
        })
    }
}

fn check_id(
    id: &Spanned<String>,
    path: &Path,
    text: &str,
    seen: &mut BTreeMap<String, String>,
    errors: &mut Vec<Diagnostic>,
) {
    let here = format!("{}:{}", path.display(), crate::diag::line_col(text, id.span().start).0);
    if id.get_ref().trim().is_empty() {
        errors.push(Diagnostic::at(path, text, Some(id.span()), "empty rule id"));
    } else if let Some(prev) = seen.insert(id.get_ref().clone(), here) {
        errors.push(Diagnostic::at(
            path,
            text,
            Some(id.span()),
            format!("duplicate rule id `{}` (first used at {prev})", id.get_ref()),
        ));
    }
}
