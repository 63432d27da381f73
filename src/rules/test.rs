//! `buzon rules test`: run the rule tests under `rules/tests/*.test`.
//!
//! A test file holds many cases. Each case starts with `=== name`, then
//! expectation lines, then `---`, then the raw mail (or `mail: file.eml`
//! among the expectations):
//!
//! ```text
//! === reclamo por sobreestadía
//! labels: reclamo            # the exact set of labels
//! not: estado                # labels that must be absent
//! docs: factura_comercial    # document kinds that must be found
//! nodocs: dam, volante       # document kinds that must not be found
//! refs: container=HLXU1234561, awb=145-54321094
//! sender: client             # the sender's role (default: client)
//! ---
//! From: Ana <ana@andes.test>
//! Subject: Sobreestadía
//!
//! Llevamos 6 días de sobreestadía y nadie responde.
//! ```

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{Facts, RuleSet, classify};
use crate::diag::Diagnostic;
use crate::mail::{ParseOptions, parse};

/// One test case.
#[derive(Debug, Clone, Default)]
pub struct Case {
    pub file: PathBuf,
    pub line: usize,
    pub name: String,
    pub labels: Option<BTreeSet<String>>,
    pub has: BTreeSet<String>,
    pub not: BTreeSet<String>,
    pub docs: BTreeSet<String>,
    pub nodocs: BTreeSet<String>,
    pub refs: Vec<(String, String)>,
    pub sender: String,
    pub raw: Vec<u8>,
}

/// The outcome of one case: `None` when it passed, else what differed.
pub struct CaseResult {
    pub case: Case,
    pub failures: Vec<String>,
}

fn list(v: &str) -> BTreeSet<String> {
    v.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Parse one `.test` file.
pub fn parse_file(path: &Path) -> Result<Vec<Case>, Vec<Diagnostic>> {
    let text = std::fs::read_to_string(path).map_err(|e| vec![Diagnostic::file(path, format!("cannot read: {e}"))])?;
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    let mut current: Option<(Case, bool, Vec<String>)> = None; // (case, in mail, mail lines)
    let finish = |c: Option<(Case, bool, Vec<String>)>, cases: &mut Vec<Case>, errors: &mut Vec<Diagnostic>| {
        if let Some((mut case, in_mail, lines)) = c {
            if in_mail {
                case.raw = lines.join("\r\n").into_bytes();
            }
            if case.raw.is_empty() {
                errors.push(Diagnostic {
                    file: case.file.clone(),
                    line: case.line,
                    col: 1,
                    message: format!("case `{}` has no mail: add `---` and the mail, or `mail: file.eml`", case.name),
                });
            } else if case.labels.is_none()
                && case.has.is_empty()
                && case.not.is_empty()
                && case.docs.is_empty()
                && case.refs.is_empty()
            {
                errors.push(Diagnostic {
                    file: case.file.clone(),
                    line: case.line,
                    col: 1,
                    message: format!("case `{}` expects nothing", case.name),
                });
            } else {
                cases.push(case);
            }
        }
    };
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if let Some(name) = line.strip_prefix("=== ") {
            finish(current.take(), &mut cases, &mut errors);
            let case = Case {
                file: path.to_path_buf(),
                line: lineno,
                name: name.trim().to_string(),
                sender: "client".into(),
                ..Case::default()
            };
            current = Some((case, false, Vec::new()));
            continue;
        }
        let Some((case, in_mail, lines)) = current.as_mut() else {
            if !line.trim().is_empty() && !line.starts_with('#') {
                errors.push(Diagnostic {
                    file: path.to_path_buf(),
                    line: lineno,
                    col: 1,
                    message: "text before the first `=== case name` line".into(),
                });
            }
            continue;
        };
        if *in_mail {
            lines.push(line.to_string());
            continue;
        }
        let content = line.split(" #").next().unwrap_or("").trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content == "---" {
            *in_mail = true;
            continue;
        }
        let Some((key, value)) = content.split_once(':') else {
            errors.push(Diagnostic {
                file: path.to_path_buf(),
                line: lineno,
                col: 1,
                message: format!("expected `key: value` or `---`, found `{content}`"),
            });
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "labels" => case.labels = Some(list(value)),
            "has" => case.has = list(value),
            "not" => case.not = list(value),
            "docs" => case.docs = list(value),
            "nodocs" => case.nodocs = list(value),
            "sender" => case.sender = value.to_string(),
            "refs" => {
                for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match item.split_once('=') {
                        Some((k, v)) => case.refs.push((k.trim().to_string(), v.trim().to_string())),
                        None => errors.push(Diagnostic {
                            file: path.to_path_buf(),
                            line: lineno,
                            col: 1,
                            message: format!("reference `{item}` must be kind=value"),
                        }),
                    }
                }
            }
            "mail" => {
                let p = path.parent().unwrap_or(Path::new(".")).join(value);
                match std::fs::read(&p) {
                    Ok(b) => case.raw = b,
                    Err(e) => errors.push(Diagnostic {
                        file: path.to_path_buf(),
                        line: lineno,
                        col: 1,
                        message: format!("cannot read {}: {e}", p.display()),
                    }),
                }
            }
            other => errors.push(Diagnostic {
                file: path.to_path_buf(),
                line: lineno,
                col: 1,
                message: format!(
                    "unknown expectation `{other}`; use labels, has, not, docs, nodocs, refs, sender or mail"
                ),
            }),
        }
    }
    finish(current.take(), &mut cases, &mut errors);
    if errors.is_empty() { Ok(cases) } else { Err(errors) }
}

/// Load every case under `dir` (`*.test`, sorted).
pub fn load_cases(dir: &Path) -> Result<Vec<Case>, Vec<Diagnostic>> {
    let rd = std::fs::read_dir(dir)
        .map_err(|e| vec![Diagnostic::file(dir, format!("cannot read the rule tests folder: {e}"))])?;
    let mut files: Vec<PathBuf> =
        rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "test")).collect();
    files.sort();
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match parse_file(&f) {
            Ok(c) => cases.extend(c),
            Err(e) => errors.extend(e),
        }
    }
    if errors.is_empty() { Ok(cases) } else { Err(errors) }
}

/// Run one case.
pub fn run_case(rules: &RuleSet, case: Case, opts: &ParseOptions, role: &dyn Fn(&str) -> &'static str) -> CaseResult {
    let mail = parse(&case.raw, opts);
    let c = classify(rules, &mail, Facts::of(&mail, &case.sender, role));
    let mut failures = Vec::new();
    let fmt = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
    if let Some(want) = &case.labels
        && want != &c.labels
    {
        failures.push(format!("labels: expected [{}], got [{}]", fmt(want), fmt(&c.labels)));
    }
    let missing: BTreeSet<String> = case.has.difference(&c.labels).cloned().collect();
    if !missing.is_empty() {
        failures.push(format!("labels: missing [{}], got [{}]", fmt(&missing), fmt(&c.labels)));
    }
    let extra: BTreeSet<String> = case.not.intersection(&c.labels).cloned().collect();
    if !extra.is_empty() {
        failures.push(format!("labels: must not have [{}], got [{}]", fmt(&extra), fmt(&c.labels)));
    }
    let found: BTreeSet<String> = c.documents.iter().map(|d| d.kind.clone()).collect();
    let missing_docs: BTreeSet<String> = case.docs.difference(&found).cloned().collect();
    if !missing_docs.is_empty() {
        let got: Vec<String> = c.documents.iter().map(|d| format!("{}={}", d.attachment, d.kind)).collect();
        failures.push(format!("docs: missing [{}], got [{}]", fmt(&missing_docs), got.join(", ")));
    }
    let wrong_docs: BTreeSet<String> = case.nodocs.intersection(&found).cloned().collect();
    if !wrong_docs.is_empty() {
        let got: Vec<String> = c.documents.iter().map(|d| format!("{}={}", d.attachment, d.kind)).collect();
        failures.push(format!("docs: must not have [{}], got [{}]", fmt(&wrong_docs), got.join(", ")));
    }
    for (k, v) in &case.refs {
        if !c.references.get(k).is_some_and(|s| s.contains(v)) {
            let got: Vec<String> =
                c.references.iter().flat_map(|(k, s)| s.iter().map(move |v| format!("{k}={v}"))).collect();
            failures.push(format!("refs: missing {k}={v}, got [{}]", got.join(", ")));
        }
    }
    if !failures.is_empty() {
        failures.push(format!("rules fired: [{}]", c.rules.join(", ")));
    }
    CaseResult { case, failures }
}
