//! The records' read commands: `orders`, `reclamos`, `tasks`, `outbox`,
//! `digest preview`.

use std::fmt::Write as _;

use super::{Answer, Query};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::config::Config;
use crate::desk::model::{Order, Reclamo, Task};
use crate::store::Store;

pub(super) fn ts(config: &Config, t: DateTime<Utc>) -> String {
    t.with_timezone(&config.timezone()).to_rfc3339()
}

fn order_json(config: &Config, o: &Order) -> Value {
    let docs: Vec<Value> = o
        .documents
        .iter()
        .map(|d| {
            let path = if d.path.is_empty() { Value::Null } else { json!(config.store.attachments_path.join(&d.path).display().to_string()) };
            json!({"kind": d.kind, "name": d.name, "sha256": d.sha256, "path": path, "size": d.size, "unreadable": d.unreadable})
        })
        .collect();
    json!({
        "id": o.id, "client": o.client, "stage": o.stage, "regime": o.regime, "regime_why": o.regime_why, "references": o.references,
        "documents": docs, "missing": o.missing, "opened_at": ts(config, o.opened_at), "updated_at": ts(config, o.updated_at),
        "eta": o.eta, "vessel": o.vessel, "review_due": o.review_due.map(|t| ts(config, t)), "regime_expires": o.regime_expires.map(|t| ts(config, t)), "closed": o.closed,
        "subject": o.subject,
        "history": o.history.iter().map(|e| json!({"at": ts(config, e.at), "what": e.what})).collect::<Vec<_>>(),
    })
}

fn reclamo_json(config: &Config, r: &Reclamo) -> Value {
    json!({
        "id": r.id, "client": r.client, "order": r.order, "received_at": ts(config, r.received_at),
        "due_at": ts(config, r.due_at), "state": r.state, "from": r.from, "subject": r.subject,
        "resolution": r.resolution,
    })
}

fn task_json(config: &Config, t: &Task) -> Value {
    json!({
        "id": t.id, "kind": t.kind, "client": t.client, "order": t.order, "due_at": t.due_at.map(|d| ts(config, d)),
        "state": t.state, "assignee": t.assignee, "summary": t.summary, "created_at": ts(config, t.created_at),
    })
}

pub(super) fn lines(values: impl Iterator<Item = Value>) -> String {
    let mut s = String::new();
    for v in values {
        s.push_str(&v.to_string());
        s.push('\n');
    }
    s
}

/// Compute the answer to a read command.
/// `live` is the running daemon's view of its source (None when the
/// command opened the store itself: no daemon runs).
pub fn answer(
    store: &Store,
    config: &Config,
    q: &Query,
    now: DateTime<Utc>,
    live: Option<&crate::mailbox::Health>,
) -> anyhow::Result<Answer> {
    let mut out = String::new();
    match q {
        Query::Orders { show: Some(id), json } => {
            let o = store.order(id)?.ok_or_else(|| anyhow::anyhow!("no order {id}"))?;
            if *json {
                return Ok(Answer::ok(lines(std::iter::once(order_json(config, &o)))));
            }
            let v = order_json(config, &o);
            let _ = writeln!(out, "{}  client {}  stage {}  regime {}", o.id, o.client, o.stage, o.regime);
            let _ = writeln!(out, "opened {}  subject: {}", ts(config, o.opened_at), o.subject);
            for (k, vs) in &o.references {
                let _ = writeln!(out, "  {k}: {}", vs.iter().cloned().collect::<Vec<_>>().join(", "));
            }
            for d in v["documents"].as_array().into_iter().flatten() {
                let _ = writeln!(
                    out,
                    "  document {} {} -> {}",
                    d["kind"].as_str().unwrap_or(""),
                    d["name"].as_str().unwrap_or(""),
                    d["path"].as_str().unwrap_or("(not kept)")
                );
            }
            let _ = writeln!(
                out,
                "  missing: {}",
                if o.missing.is_empty() { "nothing".into() } else { o.missing.join(", ") }
            );
            if let Some(d) = o.review_due {
                let _ = writeln!(out, "  review due: {}", ts(config, d));
            }
            if let Some(d) = o.regime_expires {
                let _ = writeln!(out, "  regime expires: {}", ts(config, d));
            }
            for e in &o.history {
                let _ = writeln!(out, "  {}  {}", ts(config, e.at), e.what);
            }
        }
        Query::Orders { show: None, json } => {
            let mut orders = store.orders()?;
            orders.sort_by(|a, b| a.id.cmp(&b.id));
            if *json {
                return Ok(Answer::ok(lines(orders.iter().map(|o| order_json(config, o)))));
            }
            for o in orders {
                let _ = writeln!(
                    out,
                    "{}  {:<16} {:<20} regime {}  docs {}  missing [{}]",
                    o.id,
                    o.client,
                    o.stage,
                    o.regime,
                    o.documents.len(),
                    o.missing.join(", ")
                );
            }
        }
        Query::Reclamos { open, json } => {
            let mut v: Vec<Reclamo> = store.reclamos()?.into_iter().filter(|r| !*open || r.is_open()).collect();
            v.sort_by(|a, b| a.id.cmp(&b.id));
            if *json {
                return Ok(Answer::ok(lines(v.iter().map(|r| reclamo_json(config, r)))));
            }
            for r in v {
                let overdue = if r.is_open() && r.due_at < now { "  VENCIDO" } else { "" };
                let _ = writeln!(
                    out,
                    "{}  {:<9} due {}  {}  {}{overdue}",
                    r.id,
                    r.state,
                    ts(config, r.due_at),
                    r.client.as_deref().unwrap_or(&r.from),
                    r.subject
                );
            }
        }
        Query::Tasks { open, json } => {
            let mut v: Vec<Task> = store.tasks()?.into_iter().filter(|t| !*open || t.is_open()).collect();
            v.sort_by(|a, b| a.id.cmp(&b.id));
            if *json {
                return Ok(Answer::ok(lines(v.iter().map(|t| task_json(config, t)))));
            }
            for t in v {
                let due = t.due_at.map(|d| ts(config, d)).unwrap_or_else(|| "-".into());
                let _ =
                    writeln!(out, "{}  {:<10} {:<22} due {due}  {}  {}", t.id, t.state, t.kind, t.assignee, t.summary);
            }
        }
        Query::Outbox { json } => {
            let mut v = store.outbox()?;
            v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            if *json {
                return Ok(Answer::ok(lines(v.iter().map(|m| {
                    json!({"id": m.id, "message_id": m.message_id, "kind": m.kind, "to": m.to, "subject": m.subject, "state": m.state,
                           "attempts": m.attempts, "created_at": ts(config, m.created_at), "sent_at": m.sent_at.map(|t| ts(config, t)), "error": m.error, "order": m.order})
                }))));
            }
            for m in v {
                let _ = writeln!(out, "{}  {:<9} {:<22} {}  {}", m.id, m.state, m.kind, m.to.join(","), m.subject);
            }
        }
        Query::Digest { to } => {
            let app = crate::app::App::load(&config.file)?;
            let all = crate::desk::assistants(&app.settings, &app.directory);
            let who: Vec<String> = match to {
                Some(a) => vec![a.to_ascii_lowercase()],
                None => all,
            };
            for a in who {
                let (_, ctx) = crate::desk::render_digest(&app.desk(), store, &a, now)?;
                let r = app
                    .templates
                    .render("resumen_asistente", &ctx)
                    .map_err(|e| anyhow::anyhow!("template resumen_asistente: {e:#}"))?;
                let _ = writeln!(out, "To: {a}\nSubject: {}\n\n{}", r.subject, r.text);
            }
        }
        Query::Status { json } => {
            let (text, healthy) = super::status::answer(store, config, *json, live)?;
            return Ok(Answer { text, healthy });
        }
    }
    Ok(Answer::ok(out))
}
