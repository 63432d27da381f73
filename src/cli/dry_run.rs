//! `buzon classify --desk FILE…`: what the desk would do with these mails,
//! decided against a private copy of the store (the daemon may be running;
//! nothing reaches the real store, the attachments folder or the outbox).
//! Mails are taken in the order given, each seeing what the ones before it
//! did to the copy, so a thread can be tried as a whole.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::app::App;
use crate::desk::Decision;
use crate::desk::effect::Effect;
use crate::pipeline::{decide_prepared, prepare_with};
use crate::store::Store;

/// What one mail would do.
#[derive(Debug, Default, Serialize)]
pub struct DryRun {
    pub file: String,
    pub labels: Vec<String>,
    /// Orders it would open (`opens`) or file into (`joins`).
    pub orders: Vec<Change>,
    pub reclamos: Vec<Change>,
    pub tasks: Vec<Change>,
    /// Mails it would queue.
    pub mails: Vec<Mail>,
    /// The desk's own account of what it did, line by line.
    pub outcome: Vec<String>,
    /// Why nothing was decided (processed already, unreadable, quarantined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Change {
    pub id: String,
    /// `opens` or `updates`.
    pub action: &'static str,
    pub summary: String,
}

#[derive(Debug, Serialize)]
pub struct Mail {
    /// The template it is written from.
    pub template: String,
    pub to: Vec<String>,
    pub subject: String,
}

fn action(new: bool) -> &'static str {
    if new { "opens" } else { "updates" }
}

/// Describe a decision's effects against the copy as it was before them.
fn describe(app: &App, store: &Store, d: &Decision, out: &mut DryRun) -> anyhow::Result<()> {
    let cal = &app.config.desk.calendar;
    for e in &d.effects {
        match e {
            Effect::SaveOrder(o) => out.orders.push(Change {
                id: o.id.clone(),
                action: action(store.order(&o.id)?.is_none()),
                summary: format!(
                    "client {}, regime {}, {}{}",
                    o.client,
                    o.regime,
                    match o.documents.len() {
                        1 => "1 document".to_string(),
                        n => format!("{n} documents"),
                    },
                    if o.missing.is_empty() { String::new() } else { format!(", missing {}", o.missing.join(", ")) }
                ),
            }),
            Effect::SaveReclamo(r) => out.reclamos.push(Change {
                id: r.id.clone(),
                action: action(store.reclamo(&r.id)?.is_none()),
                summary: format!(
                    "{} from {}, due {} ({})",
                    r.state.as_str(),
                    r.client.as_deref().unwrap_or(&r.from),
                    crate::desk::context::local_fmt(cal, r.due_at),
                    cal.tz
                ),
            }),
            Effect::SaveTask(t) => out.tasks.push(Change {
                id: t.id.clone(),
                action: action(store.task(&t.id)?.is_none()),
                summary: format!("{} for {}: {}", t.kind, t.assignee, t.summary),
            }),
            Effect::Queue { mail, .. } => {
                out.mails.push(Mail { template: mail.kind.clone(), to: mail.to.clone(), subject: mail.subject.clone() })
            }
            _ => {}
        }
    }
    Ok(())
}

/// Decide each file in turn against a copy of the store.
pub fn run(app: &App, files: &[PathBuf], now: DateTime<Utc>) -> anyhow::Result<Vec<DryRun>> {
    let copy = Store::open_copy(&app.config.store.path)
        .map_err(|e| anyhow::anyhow!("cannot copy the store {}: {e}", app.config.store.path.display()))?;
    let store = copy.store();
    let mut runs = Vec::with_capacity(files.len());
    for path in files {
        runs.push(one(app, store, path, now)?);
    }
    Ok(runs)
}

fn one(app: &App, store: &Store, path: &Path, now: DateTime<Utc>) -> anyhow::Result<DryRun> {
    let mut out = DryRun { file: path.display().to_string(), ..DryRun::default() };
    let raw = match std::fs::read(path) {
        Ok(raw) => raw,
        Err(e) => {
            out.skipped = Some(format!("unreadable: {e}"));
            return Ok(out);
        }
    };
    let p = match prepare_with(app, &raw, false) {
        Ok(p) => p,
        Err(e) => {
            out.skipped = Some(format!("would not be processed: {e}"));
            return Ok(out);
        }
    };
    let Some(decision) = decide_prepared(app, store, &p, now)? else {
        out.labels = p.class.labels.iter().cloned().collect();
        out.skipped = Some("processed already: nothing would happen".into());
        return Ok(out);
    };
    describe(app, store, &decision, &mut out)?;
    out.labels = decision.labels.clone();
    out.outcome = decision.outcome.clone();
    // Later files see what this one did (in the copy only).
    crate::pipeline::commit_decision(store, &p, &decision, now)?;
    Ok(out)
}

/// The text form of one dry run.
pub fn render(r: &DryRun) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}: {}", r.file, if r.labels.is_empty() { "-".to_string() } else { r.labels.join(", ") });
    if let Some(why) = &r.skipped {
        let _ = writeln!(s, "  {why}");
        return s;
    }
    for (what, list) in [("order", &r.orders), ("reclamo", &r.reclamos), ("task", &r.tasks)] {
        for c in list {
            let _ = writeln!(s, "  {} {what} {}: {}", c.action, c.id, c.summary);
        }
    }
    for m in &r.mails {
        let _ = writeln!(s, "  sends {} to {}: \"{}\"", m.template, m.to.join(", "), m.subject);
    }
    if r.orders.is_empty() && r.reclamos.is_empty() && r.tasks.is_empty() && r.mails.is_empty() {
        let _ = writeln!(s, "  changes nothing and sends nothing");
    }
    // The desk's own notes, beyond the records and mails listed above.
    let listed = ["queued ", "opened ", "updated ", "task "];
    for line in r.outcome.iter().filter(|l| !listed.iter().any(|p| l.starts_with(p))) {
        let _ = writeln!(s, "  note: {line}");
    }
    s
}
