//! `buzon classify [--json] [--explain | --desk] PATH…`

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Exit;
use crate::app::App as Setup;
use crate::rules::Classification;
use crate::rules::explain::Explanation;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One JSON object per message (JSON Lines) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Say why: which rule gave each label and document kind, on which
    /// words of which field, and which rules removed others.
    #[arg(long, conflicts_with = "desk")]
    pub explain: bool,
    /// What the desk would do (orders, reclamos, tasks, mails), decided on
    /// a copy of the store: nothing changes. Files are taken in order.
    #[arg(long)]
    pub desk: bool,
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

/// At most `n` characters of `s`, marked when cut.
fn cut(s: &str, n: usize) -> String {
    let short: String = s.chars().take(n).collect();
    if short.len() < s.len() { format!("{short}…") } else { short }
}

/// The text form of an explanation.
fn render_explanation(x: &Explanation, fallback: &str) -> String {
    let mut out = String::new();
    use std::fmt::Write as _;
    let evidence = |out: &mut String, e: &crate::rules::explain::Evidence| {
        let on = e.attachment.as_ref().map(|a| format!(" of {a}")).unwrap_or_default();
        if e.pattern == e.matched {
            let _ = writeln!(out, "      {}{on} is {}", e.field, e.matched);
        } else {
            let _ = writeln!(out, "      {}{on} matched \"{}\" (pattern {})", e.field, e.matched, cut(&e.pattern, 60));
        }
    };
    for d in &x.documents {
        let _ = writeln!(out, "  document {} = {} by rule {}", d.attachment, d.kind, d.rule);
        d.evidence.iter().for_each(|e| evidence(&mut out, e));
    }
    for f in &x.fired {
        let gave = if f.labels.is_empty() { "no label".to_string() } else { f.labels.join(", ") };
        let how = if f.exclusive { " (exclusive: only these, no rule after it)" } else { "" };
        let _ = writeln!(out, "  rule {} gave {gave}{how}", f.rule);
        f.evidence.iter().for_each(|e| evidence(&mut out, e));
        if !f.excluded.is_empty() {
            let _ = writeln!(out, "    and removed {} (no later rule may give it)", f.excluded.join(", "));
        }
    }
    if x.fired.is_empty() {
        let _ = writeln!(out, "  no rule fired");
    }
    if x.fallback {
        let _ = writeln!(out, "  no label left: {fallback} (the fallback)");
    }
    out
}

/// Render one file's result as it is printed.
fn render(setup: &Setup, path: &Path, json: bool, explain: bool) -> String {
    if explain {
        let file = path.display().to_string();
        let raw = match std::fs::read(path) {
            Ok(raw) => raw,
            Err(e) => return format!("{file}: unreadable: {e}\n"),
        };
        let x = setup.explain(&raw);
        if json {
            #[derive(Serialize)]
            struct ExplainLine<'a> {
                file: String,
                #[serde(flatten)]
                x: &'a Explanation,
            }
            return serde_json::to_string(&ExplainLine { file, x: &x })
                .map(|mut l| {
                    l.push('\n');
                    l
                })
                .unwrap_or_else(|e| {
                    format!("{{\"file\":{:?},\"problems\":[\"cannot render: {e}\"]}}\n", path.display().to_string())
                });
        }
        return format!("{file}: {}\n{}", x.labels.join(", "), render_explanation(&x, &setup.rules.fallback));
    }
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

pub fn execute(config: &Path, args: Args, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<Exit> {
    let setup = Setup::load(config)?;
    let mut files = Vec::new();
    for root in &args.paths {
        let mut errors = Vec::new();
        walk(root, &mut files, &mut errors);
        if let Some((path, e)) = errors.into_iter().next() {
            anyhow::bail!("cannot read {}: {e}", path.display());
        }
    }
    if args.desk {
        let runs = super::dry_run::run(&setup, &files, now)?;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for r in &runs {
            if args.json {
                serde_json::to_writer(&mut out, r)?;
                out.write_all(b"\n")?;
            } else {
                out.write_all(super::dry_run::render(r).as_bytes())?;
            }
        }
        out.flush()?;
        return Ok(Exit::Ok);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (files_ref, setup_ref) = (&files, &setup);
    in_order(
        files.len(),
        |i| render(setup_ref, &files_ref[i], args.json, args.explain),
        |_, line| Ok(out.write_all(line.as_bytes())?),
    )?;
    out.flush()?;
    Ok(Exit::Ok)
}

/// Run `work` on items `0..n` in a few long-lived workers (each keeps its
/// regex caches warm) and hand the results to `sink` in input order.
pub(super) fn in_order<T: Send>(
    n: usize,
    work: impl Fn(usize) -> T + Sync,
    mut sink: impl FnMut(usize, T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let workers = std::env::var("BUZON_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
        .clamp(1, 8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, T)>(1024);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, work) = (&next, &work);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if i >= n || tx.send((i, work(i))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut pending = std::collections::BTreeMap::new();
        let mut expected = 0;
        for (i, item) in rx {
            pending.insert(i, item);
            while let Some(item) = pending.remove(&expected) {
                sink(expected, item)?;
                expected += 1;
            }
        }
        if expected != n {
            anyhow::bail!("{} of {n} files could not be handled (a worker stopped)", n - expected);
        }
        Ok(())
    })
}
