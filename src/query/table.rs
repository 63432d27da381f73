//! How list commands print: a table with a header row and aligned columns
//! (for the person at the server), JSON Lines (for scripts), or CSV in
//! UTF-8 with a BOM and a header row (Excel opens accents right). CSV is
//! RFC 4180 quoting, a dozen lines: no crate for it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `--format table|json|csv`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

/// Rows of one list, in both shapes: cells for the table and CSV, a JSON
/// object per row.
#[derive(Debug, Default)]
pub struct Rows {
    pub headers: Vec<&'static str>,
    pub cells: Vec<Vec<String>>,
    pub json: Vec<Value>,
    /// Columns shortened in the table (never in CSV or JSON): (index, width).
    pub narrow: Vec<(usize, usize)>,
}

impl Rows {
    pub fn new(headers: &[&'static str]) -> Rows {
        Rows { headers: headers.to_vec(), ..Rows::default() }
    }

    pub fn push(&mut self, cells: Vec<String>, json: Value) {
        self.cells.push(cells);
        self.json.push(json);
    }

    /// Shorten column `i` to `width` characters in the table.
    pub fn narrow(mut self, i: usize, width: usize) -> Rows {
        self.narrow.push((i, width));
        self
    }

    pub fn render(&self, f: Format) -> String {
        match f {
            Format::Json => lines(self.json.iter()),
            Format::Csv => csv(&self.headers, &self.cells),
            Format::Table => table(&self.headers, &self.cells, &self.narrow),
        }
    }
}

/// JSON Lines.
pub fn lines<'a>(values: impl Iterator<Item = &'a Value>) -> String {
    let mut s = String::new();
    for v in values {
        s.push_str(&v.to_string());
        s.push('\n');
    }
    s
}

fn cut(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        return s.to_string();
    }
    let mut out: String = s.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Aligned columns (by characters: accented letters are one column wide),
/// two spaces apart, the last one unpadded; one line per row.
pub fn table(headers: &[&str], rows: &[Vec<String>], narrow: &[(usize, usize)]) -> String {
    let shown: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, c)| {
                    let one_line = c.replace(['\n', '\r', '\t'], " ");
                    match narrow.iter().find(|(n, _)| *n == i) {
                        Some((_, w)) => cut(&one_line, *w),
                        None => one_line,
                    }
                })
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in &shown {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let n = cells.len();
        let mut l = String::new();
        for (i, c) in cells.into_iter().enumerate() {
            l.push_str(c);
            if i + 1 < n {
                let pad = widths.get(i).copied().unwrap_or(0).saturating_sub(c.chars().count()) + 2;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for r in &shown {
        line(r.iter().map(String::as_str).collect());
    }
    out
}

/// One CSV field, quoted when it must be (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r', ';']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// CSV: a UTF-8 BOM, the header row, CRLF line ends.
pub fn csv(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("\u{feff}");
    let mut push = |cells: Vec<String>| {
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    push(headers.iter().map(|h| field(h)).collect());
    for r in rows {
        push(r.iter().map(|c| field(c)).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_by_characters_and_csv_quotes_what_it_must() {
        let rows = vec![
            vec!["OC-2026-000001".to_string(), "Andes Textil S.A.C.".to_string(), "Envío".to_string()],
            vec!["OC-2026-000002".to_string(), "Ñandú".to_string(), "a, \"b\"".to_string()],
        ];
        let t = table(&["ORDEN", "CLIENTE", "ASUNTO"], &rows, &[]);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "ORDEN           CLIENTE              ASUNTO");
        assert_eq!(lines[2], "OC-2026-000002  Ñandú                a, \"b\"");
        let c = csv(&["ORDEN", "CLIENTE", "ASUNTO"], &rows);
        assert!(c.starts_with("\u{feff}ORDEN,CLIENTE,ASUNTO\r\n"), "{c}");
        assert!(c.contains("OC-2026-000002,Ñandú,\"a, \"\"b\"\"\"\r\n"), "{c}");
        let narrow = table(&["A"], &[vec!["abcdefghij".into()]], &[(0, 5)]);
        assert_eq!(narrow.lines().nth(1), Some("abcd…"));
    }
}
