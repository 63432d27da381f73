//! `buzon classify [--json] PATH…`

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Exit;
use crate::app::App as Setup;
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
        Err(e) => Classification { problems: vec![format!("unreadable: {e}")], ..Classification::default() },
    };
    let file = path.display().to_string();
    if json {
        let mut line = serde_json::to_string(&Line { file, c: &c }).unwrap_or_else(|e| {
            // Serialising plain strings and maps cannot fail; say so if it ever does.
            format!("{{\"file\":{:?},\"problems\":[\"cannot render: {e}\"]}}", path.display().to_string())
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

pub fn execute(config: &Path, args: Args) -> anyhow::Result<Exit> {
    let setup = Setup::load(config)?;
    let mut files = Vec::new();
    for root in &args.paths {
        let mut errors = Vec::new();
        walk(root, &mut files, &mut errors);
        if let Some((path, e)) = errors.into_iter().next() {
            anyhow::bail!("cannot read {}: {e}", path.display());
        }
    }
    // Classification is pure and independent per file: a few long-lived
    // workers (each keeps its regex caches warm) take files in turn; lines
    // are printed in input order.
    let workers = std::env::var("BUZON_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
        .clamp(1, 8);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, String)>(1024);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, files, setup, json) = (&next, &files, &setup, args.json);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    if tx.send((i, render(setup, path, json))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending = std::collections::BTreeMap::new();
        let mut expected = 0;
        for (i, line) in rx {
            pending.insert(i, line);
            while let Some(line) = pending.remove(&expected) {
                out.write_all(line.as_bytes())?;
                expected += 1;
            }
        }
        if expected != files.len() {
            anyhow::bail!(
                "{} of {} files could not be classified (a worker stopped)",
                files.len() - expected,
                files.len()
            );
        }
        Ok(())
    })?;
    out.flush()?;
    Ok(Exit::Ok)
}
