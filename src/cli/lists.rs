//! The list, show and hand-at-the-server commands: `orders`, `reclamos`,
//! `tasks`, `outbox` (list; hold, release, cancel), `reprocess`, and
//! `orders export`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::query::{Control, Format, ListOptions, OutboxAction, Query};

/// What every list command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct ListArgs {
    /// table (aligned columns, Lima time), json (JSON Lines, RFC 3339) or
    /// csv (UTF-8 with BOM, for Excel).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Same as `--format json`.
    #[arg(long)]
    pub json: bool,
    /// Only those still open.
    #[arg(long)]
    pub open: bool,
    /// Only this client's (its id, or part of its name).
    #[arg(long)]
    pub client: Option<String>,
    /// Only those for this person (assignee, assistant, recipient).
    #[arg(long)]
    pub assignee: Option<String>,
    /// Only those since this day (`2026-12-01`, `01/12/2026`) or instant (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
}

impl ListArgs {
    pub fn options(self, config_path: &Path) -> anyhow::Result<ListOptions> {
        let since = match &self.since {
            None => None,
            Some(s) => {
                let tz = crate::config::Config::load(config_path)?.timezone();
                Some(parse_since(s, &tz)?)
            }
        };
        Ok(ListOptions {
            format: if self.json { Format::Json } else { self.format },
            open: self.open,
            client: self.client,
            assignee: self.assignee,
            since,
        })
    }
}

/// A day (midnight in the desk's zone) or an instant.
pub fn parse_since<Z: TimeZone>(s: &str, tz: &Z) -> anyhow::Result<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y")).map_err(
        |_| anyhow::anyhow!("--since {s}: expected a day (2026-12-01 or 01/12/2026) or an RFC 3339 instant"),
    )?;
    let midnight = day.and_hms_opt(0, 0, 0).ok_or_else(|| anyhow::anyhow!("--since {s}: no such day"))?;
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| anyhow::anyhow!("--since {s}: no such local time"))
}

#[derive(Debug, clap::Subcommand)]
pub enum OrdersCommand {
    /// Every order.
    List(ListArgs),
    /// One order with its documents (by their original names) and history.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Write the order's documents under their original names: into a
    /// folder (--to), or one ZIP file with the history and an index in HTML
    /// and CSV (--zip, the file for liquidation; never overwritten).
    Export {
        id: String,
        /// The folder (created when missing).
        #[arg(long, required_unless_present = "zip", conflicts_with = "zip")]
        to: Option<PathBuf>,
        /// The ZIP file to write (it must not exist).
        #[arg(long)]
        zip: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum RecordCommand {
    /// Every record, newest last.
    List(ListArgs),
    /// One record with its history.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Subcommand)]
pub enum OutboxCommand {
    /// Every outgoing mail and its state.
    List(ListArgs),
    /// Do not send this pending mail (or, with --all, every mail pending now) until released.
    Hold {
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
        /// Why (recorded).
        #[arg(long, default_value = "")]
        why: String,
        /// Who (recorded; default: the login name).
        #[arg(long)]
        by: Option<String>,
    },
    /// Send a held mail again (or, with --all, every held mail).
    Release {
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        all: bool,
        #[arg(long)]
        by: Option<String>,
    },
    /// Never send this pending or held mail (recorded with who and why).
    Cancel {
        id: String,
        /// Why (recorded).
        #[arg(long)]
        why: String,
        #[arg(long)]
        by: Option<String>,
    },
}

/// Who is at the keyboard (recorded on hold, release, cancel, reprocess).
pub fn who(by: Option<String>) -> String {
    by.or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "operador".into())
}

pub fn outbox_query(cmd: OutboxCommand, config_path: &Path) -> anyhow::Result<Query> {
    Ok(match cmd {
        OutboxCommand::List(args) => Query::Outbox { list: args.options(config_path)? },
        OutboxCommand::Hold { id, why, by, .. } => {
            Query::Control(Control::Outbox { action: OutboxAction::Hold, id, by: who(by), why })
        }
        OutboxCommand::Release { id, by, .. } => {
            Query::Control(Control::Outbox { action: OutboxAction::Release, id, by: who(by), why: String::new() })
        }
        OutboxCommand::Cancel { id, why, by } => {
            Query::Control(Control::Outbox { action: OutboxAction::Cancel, id: Some(id), by: who(by), why })
        }
    })
}

/// `orders export OC-… --to DIR`: the order's documents, as `orders show
/// --json` names them, copied under their original names (made safe for a
/// file system; a second file of the same name gets ` (2)`). The copying
/// goes through [`Sink`], so a ZIP file can be another sink.
pub fn export(config_path: &Path, now: DateTime<Utc>, id: &str, to: &Path) -> anyhow::Result<String> {
    let a = crate::query::answer(
        config_path,
        now,
        &Query::Orders { show: Some(id.to_string()), json: true, list: ListOptions::default() },
    )?;
    let order: serde_json::Value = serde_json::from_str(a.text.trim())?;
    let mut sink = DirSink::new(to)?;
    export_into(&order, &mut sink)
}

/// `orders export OC-… --zip FILE`: the file for liquidation (see
/// [`crate::store::dossier`]), from the order as `orders show --json` gives
/// it (locally or through the daemon); `FILE` must not exist.
pub fn export_zip(config_path: &Path, now: DateTime<Utc>, id: &str, file: &Path) -> anyhow::Result<String> {
    use crate::store::dossier::{Dossier, write_file};
    if file.exists() {
        anyhow::bail!("{} already exists: it is not overwritten (choose another name or move it away)", file.display());
    }
    let a = crate::query::answer(
        config_path,
        now,
        &Query::Orders { show: Some(id.to_string()), json: true, list: ListOptions::default() },
    )?;
    let order: serde_json::Value = serde_json::from_str(a.text.trim())?;
    let config = crate::config::Config::load(config_path)?;
    let tz = config.timezone();
    let made = now.with_timezone(&tz).naive_local();
    let dossier = Dossier::of_json(&order, &config.store.attachments_path, tz, Some(made));
    let w = write_file(&dossier, file).map_err(|e| anyhow::anyhow!(e))?;
    let mut out = String::new();
    for m in &w.members {
        out.push_str(&format!("{m}\n"));
    }
    for n in &w.not_kept {
        out.push_str(&format!("not in the ZIP: {n}\n"));
    }
    out.push_str(&format!(
        "{}: {} documents, {} not kept, index and history: {} ({} bytes)\n",
        dossier.order,
        w.members.len(),
        w.not_kept.len(),
        file.display(),
        w.bytes
    ));
    Ok(out)
}

/// Where exported documents go.
pub trait Sink {
    /// Is this name taken already?
    fn taken(&self, name: &str) -> bool;
    /// Put a copy of `from` under `name`; returns where it went.
    fn put(&mut self, name: &str, from: &Path) -> anyhow::Result<String>;
}

/// A folder.
pub struct DirSink {
    dir: PathBuf,
}

impl DirSink {
    pub fn new(dir: &Path) -> anyhow::Result<DirSink> {
        std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        Ok(DirSink { dir: dir.to_path_buf() })
    }
}

impl Sink for DirSink {
    fn taken(&self, name: &str) -> bool {
        self.dir.join(name).exists()
    }
    fn put(&mut self, name: &str, from: &Path) -> anyhow::Result<String> {
        let target = self.dir.join(name);
        std::fs::copy(from, &target)
            .map_err(|e| anyhow::anyhow!("cannot copy {} to {}: {e}", from.display(), target.display()))?;
        Ok(target.display().to_string())
    }
}

/// A document's name as a file name: no folders, no control characters,
/// never empty or hidden.
pub fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let s: String = base
        .chars()
        .map(|c| if c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') { '_' } else { c })
        .collect();
    let s = s.trim().trim_start_matches('.').to_string();
    if s.is_empty() { "documento".into() } else { s }
}

/// `name`, or `stem (2).ext`, `stem (3).ext`… — the first one not taken.
fn free_name(name: &str, taken: &dyn Fn(&str) -> bool) -> String {
    if !taken(name) {
        return name.to_string();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    (2..).map(|n| format!("{stem} ({n}){ext}")).find(|n| !taken(n)).unwrap_or_else(|| name.to_string())
}

/// Copy the documents of `order` (its `orders show --json` object) into `sink`.
pub fn export_into(order: &serde_json::Value, sink: &mut dyn Sink) -> anyhow::Result<String> {
    let id = order["id"].as_str().unwrap_or("");
    let mut out = String::new();
    let mut seen: Vec<String> = Vec::new();
    let (mut done, mut skipped) = (0, 0);
    for d in order["documents"].as_array().into_iter().flatten() {
        let original = d["name"].as_str().unwrap_or("documento");
        let Some(path) = d["path"].as_str() else {
            skipped += 1;
            out.push_str(&format!("not kept: {original} (over the size limit when it came)\n"));
            continue;
        };
        // The same file twice (same content, same name) is written once.
        let sha = d["sha256"].as_str().unwrap_or("");
        if seen.iter().any(|s| s == &format!("{sha}/{original}")) {
            continue;
        }
        seen.push(format!("{sha}/{original}"));
        let name = free_name(&safe_name(original), &|n| sink.taken(n));
        let at = sink.put(&name, Path::new(path))?;
        done += 1;
        out.push_str(&format!("{at}\n"));
    }
    out.push_str(&format!("{id}: {done} documents written, {skipped} not kept\n"));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_lima_day_or_an_instant() {
        let lima = chrono::FixedOffset::west_opt(5 * 3600).unwrap_or_else(|| panic!("offset"));
        for (input, want) in [
            ("2026-12-01", "2026-12-01T05:00:00+00:00"),
            ("01/12/2026", "2026-12-01T05:00:00+00:00"),
            ("2026-12-01T10:00:00-05:00", "2026-12-01T15:00:00+00:00"),
        ] {
            let got = parse_since(input, &lima).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got.to_rfc3339(), want, "{input}");
        }
        assert!(parse_since("ayer", &lima).is_err());
    }

    #[test]
    fn exported_names_are_safe_and_never_overwrite() {
        for (input, want) in [
            ("Factura 001-2345.pdf", "Factura 001-2345.pdf"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\ana\\BL MSC.pdf", "BL MSC.pdf"),
            (".hidden", "hidden"),
            ("", "documento"),
            ("a:b?.pdf", "a_b_.pdf"),
        ] {
            assert_eq!(safe_name(input), want, "{input}");
        }
        let taken = |n: &str| ["factura.pdf", "factura (2).pdf", "LEEME"].contains(&n);
        assert_eq!(free_name("factura.pdf", &taken), "factura (3).pdf");
        assert_eq!(free_name("LEEME", &taken), "LEEME (2)");
        assert_eq!(free_name("nuevo.pdf", &taken), "nuevo.pdf");
    }
}
