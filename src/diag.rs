//! Diagnostics shared by the config, rule and template loaders: every problem
//! found in a business-edited file is reported as `file:line:col: message`,
//! and loaders collect all of them before giving up.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One problem in one file, with a 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in, as the user named it.
    pub file: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// 1-based column; 0 when unknown.
    pub col: usize,
    /// What is wrong, and where possible how to fix it.
    pub message: String,
}

impl Diagnostic {
    /// A problem about a whole file (cannot be read, missing, ...).
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        Diagnostic { file: file.to_path_buf(), line: 0, col: 0, message: message.into() }
    }

    /// A problem at a byte span of a file's text.
    pub fn at(file: &Path, text: &str, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        let (line, col) = span.map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        Diagnostic { file: file.to_path_buf(), line, col, message: message.into() }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.col, self.message)
        }
    }
}

/// A list of diagnostics that is itself an error (so `?` works in loaders).
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before.get(line_start..).map(|s| s.chars().count()).unwrap_or(0) + 1;
    (line, col)
}

/// Turn a TOML error into a diagnostic located in `text`.
pub fn from_toml(file: &Path, text: &str, err: &toml::de::Error) -> Diagnostic {
    // The toml message carries its own multi-line caret rendering when it knows
    // the input; keep only the first line of the message proper.
    let msg = err.message().lines().next().unwrap_or("invalid TOML").trim().to_string();
    Diagnostic::at(file, text, err.span(), msg)
}

/// Suggest the closest of `choices` to `word` (edit distance ≤ 2 or prefix).
pub fn suggest<'a>(word: &str, choices: &[&'a str]) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in choices {
        // A prefix ("factura" for "factura_comercial") counts as distance 1.
        let prefix = word.len() >= 4 && (c.starts_with(word) || word.starts_with(c));
        let d = if prefix { 1 } else { edit_distance(word, c) };
        if d <= 2 && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Deserialize one spanned TOML value (a table of a `[[array]]`, say) into
/// `T`; errors keep their position in the original file.
pub fn deserialize_value<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
    value: &toml::Spanned<toml::de::DeValue<'_>>,
) -> Result<T, Diagnostic> {
    let outer = value.span();
    T::deserialize(toml::de::ValueDeserializer::from(value.clone())).map_err(|mut e| {
        e.set_input(None);
        let span = e.span().or(Some(outer));
        Diagnostic::at(file, text, span, e.message().trim().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 3));
    }

    #[test]
    fn suggests_near_misses_only() {
        assert_eq!(suggest("subjet", &["subject", "from"]), Some("subject"));
        assert_eq!(suggest("zzzzzz", &["subject", "from"]), None);
    }
}
