//! `buzon status`: the source, the store, the outbox and the last error —
//! and whether the desk is well: the daemon runs, the source is not stopped
//! and the outbox is not failing (else the command exits 1).

use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::records::{lines, ts};
use crate::config::{Config, Mailbox};
use crate::desk::model::OutboxState;
use crate::mailbox::Health;
use crate::store::Store;

/// Failed outgoing mail counts against the desk's health this long.
const RECENT_FAILURES: i64 = 24;

/// The outbox is failing: mail retried after an error now, or refused or
/// bounced within the last day.
fn failing_count(outbox: &[crate::desk::model::Outgoing], now: DateTime<Utc>) -> usize {
    let recent = now - Duration::hours(RECENT_FAILURES);
    outbox
        .iter()
        .filter(|m| match m.state {
            OutboxState::Pendiente => m.error.is_some(),
            OutboxState::Fallido => m.sent_at.unwrap_or(m.created_at) > recent,
            OutboxState::Enviado | OutboxState::Retenido | OutboxState::Cancelado => false,
        })
        .count()
}

/// Why the desk is unwell (empty: it is well): the daemon is not running,
/// the source stopped, the store cannot be written, outgoing mail fails.
fn problems(config: &Config, live: Option<&Health>, failing: usize) -> Vec<String> {
    let mut problems: Vec<String> = Vec::new();
    match live {
        None => problems.push("the daemon is not running".into()),
        Some(h) if h.fatal => problems.push("the source is stopped".into()),
        Some(_) => {}
    }
    if let Some(why) = store_unwritable(&config.store.path) {
        problems.push(format!("the store is not writable: {why}"));
    }
    if failing > 0 {
        problems.push(format!("{failing} outgoing mails failing"));
    }
    problems
}

/// Free space below which the store counts as unwritable (sled appends).
const MIN_FREE_BYTES: u64 = 16 * 1024 * 1024;

/// Why the store's folder cannot take writes: a read-only file system, no
/// write permission, or a disk (nearly) full. `None`: it can.
pub fn store_unwritable(store: &std::path::Path) -> Option<String> {
    use rustix::fs::{Access, StatVfsMountFlags};
    if !store.exists() {
        return None; // created at the first start
    }
    if let Err(e) = rustix::fs::access(store, Access::WRITE_OK) {
        return Some(format!("{}: {e}", store.display()));
    }
    match rustix::fs::statvfs(store) {
        Ok(st) if st.f_flag.contains(StatVfsMountFlags::RDONLY) => {
            Some(format!("{} is on a read-only file system", store.display()))
        }
        Ok(st) if st.f_bavail.saturating_mul(st.f_frsize) < MIN_FREE_BYTES => {
            Some(format!("{} has {} KiB free", store.display(), st.f_bavail.saturating_mul(st.f_frsize) / 1024))
        }
        _ => None,
    }
}

/// The running daemon's health, as `status` judges it: the reasons it is
/// unwell (empty: well). For `/healthz`.
pub fn health(store: &Store, config: &Config, live: &Health, now: DateTime<Utc>) -> anyhow::Result<Vec<String>> {
    Ok(problems(config, Some(live), failing_count(&store.outbox()?, now)))
}

/// The status text (or JSON line) and whether the desk is well. `live`: the
/// running daemon's source health (`None`: no daemon runs); `now`: the clock's.
pub fn answer(
    store: &Store,
    config: &Config,
    json: bool,
    now: DateTime<Utc>,
    live: Option<&Health>,
) -> anyhow::Result<(String, bool)> {
    let mut out = String::new();
    let outbox = store.outbox()?;
    let count = |s: OutboxState| outbox.iter().filter(|m| m.state == s).count();
    let processed = store.processed()?;
    let last = processed.iter().max_by_key(|p| p.at);
    let quarantined = store.quarantined()?;
    let (kind, where_, waiting) = match &config.mailbox {
        Mailbox::Imap(m) => ("imap", format!("{}@{}:{}/{}", m.user, m.host, m.port, m.folder), None),
        Mailbox::Maildir { path, .. } => (
            "maildir",
            path.display().to_string(),
            Some(std::fs::read_dir(path.join("new")).map(|r| r.count()).unwrap_or(0)),
        ),
    };
    let imap = kind == "imap";
    // The latest error anywhere: the source's (or a refused reload), or an outbox entry's.
    let outbox_error = outbox
        .iter()
        .filter(|m| m.error.is_some())
        .max_by_key(|m| m.sent_at.or(m.next_attempt).unwrap_or(m.created_at))
        .map(|m| {
            (
                m.sent_at.or(m.next_attempt).unwrap_or(m.created_at),
                format!("outbox {}: {}", m.id, m.error.clone().unwrap_or_default()),
            )
        });
    let source_error = live.and_then(|h| Some((h.last_error_at?, format!("source: {}", h.last_error.clone()?))));
    let reload_error =
        live.and_then(|h| Some((h.reload_error_at?, format!("reload refused: {}", h.reload_error.clone()?))));
    let last_error = [outbox_error, source_error, reload_error].into_iter().flatten().max_by_key(|(at, _)| *at);
    let state = match (live, imap) {
        (None, _) => "daemon not running".to_string(),
        (Some(h), _) if h.fatal => {
            format!("STOPPED ({})", h.fatal_reason.as_deref().unwrap_or("authentication refused"))
        }
        (Some(_), false) => "watching".to_string(),
        (Some(h), true) if h.connected => "connected".to_string(),
        (Some(_), true) => "disconnected, reconnecting".to_string(),
    };
    let failing = failing_count(&outbox, now);
    let problems = problems(config, live, failing);
    let since = live.and_then(|h| h.since).map(|t| ts(config, t));
    let v = json!({
        "daemon": if live.is_some() { "running" } else { "not running" },
        "healthy": problems.is_empty(),
        "problems": problems,
        "source": {"kind": kind, "where": where_, "state": state, "since": since,
                   "idle": live.map(|h| h.idle), "waiting": waiting},
        "processed": processed.len(),
        "last_processed": last.map(|p| json!({"at": ts(config, p.at), "from": p.from, "subject": p.subject})),
        "quarantined": quarantined.len(),
        "quarantine": quarantined.iter().map(|q| json!({"name": q.name, "why": q.why, "at": ts(config, q.at)})).collect::<Vec<_>>(),
        "outbox": {"pending": count(OutboxState::Pendiente), "sent": count(OutboxState::Enviado),
                   "failed": count(OutboxState::Fallido), "failing": failing,
                   "held": count(OutboxState::Retenido), "cancelled": count(OutboxState::Cancelado)},
        "last_error": last_error.as_ref().map(|(at, e)| json!({"at": ts(config, *at), "error": e})),
        "store": config.store.path,
    });
    let healthy = problems.is_empty();
    if json {
        return Ok((lines(std::iter::once(v)), healthy));
    }
    let _ = writeln!(out, "daemon:      {}", v["daemon"].as_str().unwrap_or(""));
    let _ = writeln!(
        out,
        "source:      {kind} {where_}: {state}{}{}",
        since.map(|s| format!(" since {s}")).unwrap_or_default(),
        waiting.map(|w| format!(" ({w} waiting)")).unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "processed:   {} (last {})",
        processed.len(),
        last.map(|p| format!("{} from {}: {}", ts(config, p.at), p.from, p.subject)).unwrap_or_else(|| "never".into())
    );
    let _ = writeln!(out, "quarantined: {}", quarantined.len());
    for q in &quarantined {
        let _ = writeln!(out, "             {}  {}  ({})", q.name, q.why, ts(config, q.at));
    }
    if !quarantined.is_empty() {
        let _ = writeln!(out, "             after a fix: `buzon reprocess NAME` sends one through the desk again");
    }
    let _ = writeln!(
        out,
        "outbox:      {} pending, {} sent, {} failed ({failing} failing), {} held, {} cancelled",
        count(OutboxState::Pendiente),
        count(OutboxState::Enviado),
        count(OutboxState::Fallido),
        count(OutboxState::Retenido),
        count(OutboxState::Cancelado)
    );
    if count(OutboxState::Retenido) > 0 {
        let _ =
            writeln!(out, "             held mail waits for `buzon outbox release ID|--all` (or `outbox cancel ID`)");
    }
    let _ = writeln!(
        out,
        "last error:  {}",
        last_error.map(|(at, e)| format!("{} {e}", ts(config, at))).unwrap_or_else(|| "none".into())
    );
    let _ = writeln!(out, "health:      {}", if healthy { "ok".to_string() } else { problems.join("; ") });
    Ok((out, healthy))
}
