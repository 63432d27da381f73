//! `buzon classify [--json] PATH…`

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Outcome, Setup};
use crate::rules::Classification;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One JSON object per message (JSON Lines) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Message files or folders (folders are walked recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Serialize)]
struct Line<'a> {
    file: String,
    #[serde(flatten)]
    c: &'a Classification,
}

/// Every regular file under `path`, sorted; `path` itself if it is a file.
pub fn walk(path: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<(PathBuf, String)>) {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => {
            errors.push((path.to_path_buf(), e.to_string()));
            return;
        }
    };
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                errors.push((path.to_path_buf(), e.to_string()));
                return;
            }
        };
        entries.sort();
        for e in entries {
            walk(&e, out, errors);
        }
    } else if meta.is_file() || std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        out.push(path.to_path_buf());
    }
}

/// Render one file's result as it is printed.
fn render(setup: &Setup, path: &Path, json: bool) -> String {
    let c = match std::fs::read(path) {
        Ok(raw) => setup.classify(&raw).1,
        Err(e) => Classification {
            problems: vec![format!("unreadable: {e}")],
            ..Classification::default()
        },
    };
    let file = path.display().to_string();
    if json {
        let mut line = serde_json::to_string(&Line { file, c: &c }).unwrap_or_else(|e| {
            // Serialising plain strings and maps cannot fail; say so if it ever does.
            format!(
                "{{\"file\":{:?},\"problems\":[\"cannot render: {e}\"]}}",
                path.display().to_string()
            )
        });
        line.push('\n');
        return line;
    }
    let mut out = String::new();
    use std::fmt::Write as _;
    let labels: Vec<&str> = c.labels.iter().map(String::as_str).collect();
    let _ = writeln!(out, "{file}: {}", labels.join(", "));
    for d in &c.documents {
        let _ = writeln!(out, "  document {} = {}", d.attachment, d.kind);
    }
    for (k, vs) in &c.references {
        for v in vs {
            let _ = writeln!(out, "  {k} {v}");
        }
    }
    for p in &c.problems {
        let _ = writeln!(out, "  problem: {p}");
    }
    out
}

pub fn execute(config: &Path, args: Args) -> anyhow::Result<Outcome> {
    let setup = Setup::load(config)?;
    let mut files = Vec::new();
    for root in &args.paths {
        let mut errors = Vec::new();
        walk(root, &mut files, &mut errors);
        if let Some((path, e)) = errors.into_iter().next() {
            anyhow::bail!("cannot read {}: {e}", path.display());
        }
    }
    // Classification is pure and independent per file: spread batches over
    // the cores, print in input order.
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for batch in files.chunks(512) {
        let per = batch.len().div_ceil(workers);
        let rendered: Vec<Vec<String>> = std::thread::scope(|scope| {
            let handles: Vec<_> = batch
                .chunks(per.max(1))
                .map(|part| {
                    scope.spawn(|| {
                        part.iter()
                            .map(|p| render(&setup, p, args.json))
                            .collect::<Vec<String>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        vec!["classification panicked on this batch\n".to_string()]
                    })
                })
                .collect()
        });
        for part in rendered {
            for line in part {
                out.write_all(line.as_bytes())?;
            }
        }
    }
    out.flush()?;
    Ok(Outcome::Ok)
}
