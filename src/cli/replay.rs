//! `buzon rules replay [--since DATE] [--from PATH…] [--all] [--json]`:
//! the processed mail classified again with the rule files on disk, and
//! what would change, mail by mail (labels before → after). The mail is
//! read back from the Maildir's `cur/` (where processed mail goes) or from
//! the files given; what it was handled as comes from a copy of the store.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use super::Exit;
use crate::app::App;
use crate::config::Mailbox;
use crate::replay::{Replayed, replay};
use crate::store::Store;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only mail processed on or after this day (YYYY-MM-DD, Lima time).
    #[arg(long, value_parser = parse_day)]
    pub since: Option<NaiveDate>,
    /// Read the mail from these files or folders instead of the mailbox
    /// (for an IMAP desk: its processed folder, exported).
    #[arg(long, num_args = 1..)]
    pub from: Vec<PathBuf>,
    /// List every mail, not only those that would change.
    #[arg(long)]
    pub all: bool,
    /// JSON Lines: one object per mail listed, then one `summary` object.
    #[arg(long)]
    pub json: bool,
}

fn parse_day(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("`{s}` is not a day like 2026-11-01: {e}"))
}

/// The instant a Lima day starts.
fn lima_midnight(day: NaiveDate) -> DateTime<Utc> {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    chrono_tz::America::Lima.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or_default()
}

#[derive(Debug, Default, Serialize)]
struct Summary {
    mails: usize,
    unchanged: usize,
    changed: usize,
    /// Files this store never processed (another desk's, or still in `new/`).
    not_processed: usize,
    /// Processed before `--since`.
    skipped: usize,
    unreadable: usize,
}

#[derive(Serialize)]
struct Line<'a> {
    file: String,
    changed: bool,
    #[serde(flatten)]
    r: &'a Replayed,
}

fn text_line(file: &str, r: &Replayed) -> String {
    let show = |v: &[String]| if v.is_empty() { "-".to_string() } else { v.join(", ") };
    let when = r.processed_at.map(|t| t.with_timezone(&chrono_tz::America::Lima).format("%Y-%m-%d").to_string());
    let subject: String = r.subject.chars().take(70).collect();
    match when {
        Some(day) if r.changed() => {
            format!("{file}: {} → {}   ({day}, {}: \"{subject}\")\n", show(&r.before), show(&r.after), r.from)
        }
        Some(day) => format!("{file}: {} unchanged   ({day}, {}: \"{subject}\")\n", show(&r.after), r.from),
        None => format!("{file}: never processed here; today {}   ({}: \"{subject}\")\n", show(&r.after), r.from),
    }
}

pub fn execute(config: &std::path::Path, args: Args) -> anyhow::Result<Exit> {
    let app = App::load(config)?;
    let roots: Vec<PathBuf> = if args.from.is_empty() {
        match &app.config.mailbox {
            Mailbox::Maildir { path, .. } => vec![path.join("cur")],
            Mailbox::Imap(i) => anyhow::bail!(
                "the mailbox is IMAP: export its processed folder `{}` to a folder (one message per file, \
                 e.g. with mbsync or Thunderbird) and give it with --from",
                i.processed_folder
            ),
        }
    } else {
        args.from.clone()
    };
    let mut files = Vec::new();
    for root in &roots {
        let mut errors = Vec::new();
        super::classify::walk(root, &mut files, &mut errors);
        if let Some((path, e)) = errors.into_iter().next() {
            anyhow::bail!("cannot read {}: {e}", path.display());
        }
    }
    let copy = Store::open_copy(&app.config.store.path)
        .map_err(|e| anyhow::anyhow!("cannot copy the store {}: {e}", app.config.store.path.display()))?;
    let since = args.since.map(lima_midnight);
    let mut summary = Summary::default();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let store = copy.store();
    let (app_ref, files_ref) = (&app, &files);
    super::classify::in_order(
        files.len(),
        |i| -> Result<Option<Replayed>, String> {
            let raw = std::fs::read(&files_ref[i]).map_err(|e| e.to_string())?;
            replay(app_ref, store, &raw).map(Some).map_err(|e| e.to_string())
        },
        |i, r| -> anyhow::Result<()> {
            let file = files[i].display().to_string();
            summary.mails += 1;
            let r = match r {
                Ok(Some(r)) => r,
                Ok(None) => return Ok(()),
                Err(e) => {
                    summary.unreadable += 1;
                    if !args.json {
                        writeln!(out, "{file}: unreadable: {e}")?;
                    }
                    return Ok(());
                }
            };
            match r.processed_at {
                None => summary.not_processed += 1,
                Some(at) if since.is_some_and(|s| at < s) => {
                    summary.skipped += 1;
                    return Ok(());
                }
                Some(_) if r.changed() => summary.changed += 1,
                Some(_) => summary.unchanged += 1,
            }
            if r.changed() || args.all {
                if args.json {
                    serde_json::to_writer(&mut out, &Line { file, changed: r.changed(), r: &r })?;
                    out.write_all(b"\n")?;
                } else {
                    out.write_all(text_line(&file, &r).as_bytes())?;
                }
            }
            Ok(())
        },
    )?;
    if args.json {
        #[derive(Serialize)]
        struct Last<'a> {
            summary: &'a Summary,
        }
        serde_json::to_writer(&mut out, &Last { summary: &summary })?;
        out.write_all(b"\n")?;
    } else {
        writeln!(
            out,
            "{} mails: {} would change, {} unchanged, {} never processed here{}{}",
            summary.mails,
            summary.changed,
            summary.unchanged,
            summary.not_processed,
            if summary.skipped > 0 { format!(", {} before --since", summary.skipped) } else { String::new() },
            if summary.unreadable > 0 { format!(", {} unreadable", summary.unreadable) } else { String::new() },
        )?;
    }
    out.flush()?;
    Ok(Exit::Ok)
}
