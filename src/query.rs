//! Read commands and their protocol: `orders`, `reclamos`, `tasks`,
//! `outbox`, `status`, `digest preview`. A command opens the store itself,
//! or, while the daemon holds it, asks the daemon over its local socket
//! (one JSON request line; the answer is a status byte and the text): the
//! answer is the same either way. The daemon serves the socket with
//! [`serve`]; the CLI calls [`execute`].

use std::fmt::Write as _;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::config::Config;
use crate::desk::model::{Order, OutboxState, Reclamo, Task};
use crate::store::Store;

/// A read command, as sent to the daemon.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Query {
    Orders {
        show: Option<String>,
        json: bool,
    },
    Reclamos {
        open: bool,
        json: bool,
    },
    Tasks {
        open: bool,
        json: bool,
    },
    Outbox {
        json: bool,
    },
    Status {
        json: bool,
    },
    /// The assistants' digests as they would be sent now.
    Digest {
        to: Option<String>,
    },
}

fn ts(config: &Config, t: DateTime<Utc>) -> String {
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
        "id": o.id, "client": o.client, "stage": o.stage, "regime": o.regime, "references": o.references,
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

fn lines(values: impl Iterator<Item = Value>) -> String {
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
) -> anyhow::Result<String> {
    let mut out = String::new();
    match q {
        Query::Orders { show: Some(id), json } => {
            let o = store.order(id)?.ok_or_else(|| anyhow::anyhow!("no order {id}"))?;
            if *json {
                return Ok(lines(std::iter::once(order_json(config, &o))));
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
                return Ok(lines(orders.iter().map(|o| order_json(config, o))));
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
                return Ok(lines(v.iter().map(|r| reclamo_json(config, r))));
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
                return Ok(lines(v.iter().map(|t| task_json(config, t))));
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
                return Ok(lines(v.iter().map(|m| {
                    json!({"id": m.id, "message_id": m.message_id, "kind": m.kind, "to": m.to, "subject": m.subject, "state": m.state,
                           "attempts": m.attempts, "created_at": ts(config, m.created_at), "sent_at": m.sent_at.map(|t| ts(config, t)), "error": m.error, "order": m.order})
                })));
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
            let outbox = store.outbox()?;
            let count = |s: OutboxState| outbox.iter().filter(|m| m.state == s).count();
            let processed = store.processed()?;
            let last = processed.iter().max_by_key(|p| p.at);
            let quarantined = store.quarantined()?;
            let (kind, where_, waiting) = match &config.mailbox {
                crate::config::Mailbox::Imap(m) => {
                    ("imap", format!("{}@{}:{}/{}", m.user, m.host, m.port, m.folder), None)
                }
                crate::config::Mailbox::Maildir { path, .. } => (
                    "maildir",
                    path.display().to_string(),
                    Some(std::fs::read_dir(path.join("new")).map(|r| r.count()).unwrap_or(0)),
                ),
            };
            let imap = kind == "imap";
            // The latest error anywhere: the source's, or an outbox entry's.
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
            let source_error =
                live.and_then(|h| Some((h.last_error_at?, format!("source: {}", h.last_error.clone()?))));
            let last_error = [outbox_error, source_error].into_iter().flatten().max_by_key(|(at, _)| *at);
            let connected = match (live, imap) {
                (None, _) => "daemon not running".to_string(),
                (Some(_), false) => "watching".to_string(),
                (Some(h), true) if h.fatal => "STOPPED (authentication refused)".to_string(),
                (Some(h), true) if h.connected => "connected".to_string(),
                (Some(_), true) => "disconnected, reconnecting".to_string(),
            };
            let since = live.and_then(|h| h.since).map(|t| ts(config, t));
            let v = json!({
                "daemon": if live.is_some() { "running" } else { "not running" },
                "source": {"kind": kind, "where": where_, "state": connected, "since": since,
                           "idle": live.map(|h| h.idle), "waiting": waiting},
                "processed": processed.len(),
                "last_processed": last.map(|p| json!({"at": ts(config, p.at), "from": p.from, "subject": p.subject})),
                "quarantined": quarantined.len(),
                "outbox": {"pending": count(OutboxState::Pendiente), "sent": count(OutboxState::Enviado), "failed": count(OutboxState::Fallido)},
                "last_error": last_error.as_ref().map(|(at, e)| json!({"at": ts(config, *at), "error": e})),
                "store": config.store.path,
            });
            if *json {
                return Ok(lines(std::iter::once(v)));
            }
            let _ = writeln!(out, "daemon:      {}", v["daemon"].as_str().unwrap_or(""));
            let _ = writeln!(
                out,
                "source:      {kind} {where_}: {connected}{}{}",
                since.map(|s| format!(" since {s}")).unwrap_or_default(),
                waiting.map(|w| format!(" ({w} waiting)")).unwrap_or_default()
            );
            let _ = writeln!(
                out,
                "processed:   {} (last {})",
                processed.len(),
                last.map(|p| format!("{} from {}: {}", ts(config, p.at), p.from, p.subject))
                    .unwrap_or_else(|| "never".into())
            );
            let _ = writeln!(out, "quarantined: {}", quarantined.len());
            let _ = writeln!(
                out,
                "outbox:      {} pending, {} sent, {} failed",
                count(OutboxState::Pendiente),
                count(OutboxState::Enviado),
                count(OutboxState::Fallido)
            );
            let _ = writeln!(
                out,
                "last error:  {}",
                last_error.map(|(at, e)| format!("{} {e}", ts(config, at))).unwrap_or_else(|| "none".into())
            );
        }
    }
    Ok(out)
}

/// The socket on which a running daemon answers read commands.
pub fn socket_path(store_path: &Path) -> PathBuf {
    let mut p = store_path.as_os_str().to_owned();
    p.push(".sock");
    PathBuf::from(p)
}

/// Run a read command: locally, or through the daemon's socket; print the answer.
pub fn execute(config_path: &Path, now: DateTime<Utc>, q: Query) -> anyhow::Result<()> {
    let config = Config::load(config_path)?;
    let text = match Store::open(&config.store.path) {
        Ok(store) => answer(&store, &config, &q, now, None)?,
        Err(crate::store::StoreError::Locked(_)) => ask_daemon(&socket_path(&config.store.path), &q)?,
        Err(e) => return Err(e.into()),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(())
}

/// Answer read commands on `path` until `token` is cancelled. `app` is the
/// daemon's current business files; `health` its source's state.
pub async fn serve(
    path: PathBuf,
    store: Store,
    app: crate::app::AppCell,
    clock: crate::clock::Clock,
    health: crate::mailbox::SharedHealth,
    token: tokio_util::sync::CancellationToken,
) {
    let listener = match tokio::net::UnixListener::bind(&path) {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!("Read commands will not reach this daemon: cannot listen on {}: {e}", path.display());
            return;
        }
    };
    loop {
        let stream = tokio::select! {
            _ = token.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!("Read-command socket: {e}");
                    continue;
                }
            },
        };
        let (store, app, health) = (store.clone(), app.clone(), health.clone());
        tokio::spawn(async move {
            use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
            let (read, mut write) = stream.into_split();
            let mut line = String::new();
            if BufReader::new(read).read_line(&mut line).await.is_err() {
                return;
            }
            let answer = tokio::task::spawn_blocking(move || {
                let query: Query = serde_json::from_str(&line).map_err(|e| anyhow::anyhow!("bad request: {e}"))?;
                let app = app.current();
                let live = health.lock().map(|h| h.clone()).unwrap_or_default();
                answer(&store, &app.config, &query, clock.now(), Some(&live))
            })
            .await;
            let text = match answer {
                Ok(Ok(t)) => format!("0{t}"),
                Ok(Err(e)) => format!("2buzon: {e:#}\n"),
                Err(e) => format!("2buzon: {e}\n"),
            };
            let _ = write.write_all(text.as_bytes()).await;
        });
    }
    let _ = std::fs::remove_file(&path);
}

fn ask_daemon(sock: &Path, q: &Query) -> anyhow::Result<String> {
    let mut stream = std::os::unix::net::UnixStream::connect(sock).map_err(|e| {
        anyhow::anyhow!("the store is in use and the daemon does not answer on {}: {e}", sock.display())
    })?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut req = serde_json::to_string(q)?;
    req.push('\n');
    stream.write_all(req.as_bytes())?;
    let mut reader = std::io::BufReader::new(stream);
    let mut status = [0u8; 1];
    reader.read_exact(&mut status)?;
    let mut text = String::new();
    while reader.read_line(&mut text)? > 0 {}
    if status[0] == b'0' { Ok(text) } else { anyhow::bail!("{}", text.trim().trim_start_matches("buzon: ")) }
}
