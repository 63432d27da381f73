//! The records' read commands: `orders`, `reclamos`, `tasks`, `outbox`
//! (list and show), `digest preview`. Lists print a table (header row,
//! aligned columns, Lima time to the minute, Spanish), JSON Lines (RFC 3339
//! dates, the ETA too) or CSV; they take `--open`, `--client`,
//! `--assignee` and `--since`.

use std::fmt::Write as _;

use super::table::{Format, Rows};
use super::{Answer, ListOptions, Query};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::app::App;
use crate::config::Config;
use crate::desk::model::{HistoryEntry, Order, Outgoing, Reclamo, Task};
use crate::store::Store;

pub(super) fn ts(config: &Config, t: DateTime<Utc>) -> String {
    t.with_timezone(&config.timezone()).to_rfc3339()
}

/// `dd/mm/aaaa HH:MM` in the desk's zone: what a person reads.
fn local(config: &Config, t: DateTime<Utc>) -> String {
    t.with_timezone(&config.timezone()).format("%d/%m/%Y %H:%M").to_string()
}

/// An ETA as stored (`dd/mm/aaaa`, as people write it) → RFC 3339's
/// full-date (`2026-12-09`); anything else as it is.
pub fn eta_json(eta: &Option<String>) -> Value {
    match eta {
        Some(e) => match NaiveDate::parse_from_str(e, "%d/%m/%Y") {
            Ok(d) => json!(d.format("%Y-%m-%d").to_string()),
            Err(_) => json!(e),
        },
        None => Value::Null,
    }
}

fn history_json(config: &Config, h: &[HistoryEntry]) -> Vec<Value> {
    h.iter().map(|e| json!({"at": ts(config, e.at), "what": e.what, "internal": !e.is_public()})).collect()
}

fn client_name(app: &App, id: Option<&str>) -> String {
    crate::desk::client_name(&app.directory, id)
}

fn order_json(app: &App, o: &Order) -> Value {
    let config = &app.config;
    let docs: Vec<Value> = o
        .documents
        .iter()
        .map(|d| {
            let path = if d.path.is_empty() { Value::Null } else { json!(config.store.attachments_path.join(&d.path).display().to_string()) };
            json!({"kind": d.kind, "name": d.name, "sha256": d.sha256, "path": path, "size": d.size, "unreadable": d.unreadable,
                   "received_at": ts(config, d.received_at), "from": d.from})
        })
        .collect();
    json!({
        "id": o.id, "client": o.client, "client_name": client_name(app, Some(&o.client)), "stage": o.stage, "regime": o.regime,
        "regime_why": o.regime_why, "references": o.references, "documents": docs, "missing": o.missing,
        "opened_at": ts(config, o.opened_at), "updated_at": ts(config, o.updated_at), "eta": eta_json(&o.eta), "vessel": o.vessel,
        "review_due": o.review_due.map(|t| ts(config, t)), "regime_expires": o.regime_expires.map(|t| ts(config, t)),
        "closed": o.closed, "subject": o.subject, "assistant": app.desk().assistant_of(Some(&o.client)),
        "history": history_json(config, &o.history),
        "money": o.money,
        "extras": o.extras,
        "archive_missing": crate::desk::closing::missing(&app.rules.desk, o),
    })
}

fn reclamo_json(app: &App, r: &Reclamo, now: DateTime<Utc>) -> Value {
    let config = &app.config;
    json!({
        "id": r.id, "client": r.client, "client_name": client_name(app, r.client.as_deref()), "order": r.order,
        "received_at": ts(config, r.received_at), "due_at": ts(config, r.due_at), "state": r.state, "from": r.from,
        "subject": r.subject, "resolution": r.resolution, "closed_at": r.closed_instant().map(|t| ts(config, t)),
        "overdue": r.is_open() && r.due_at < now, "history": history_json(config, &r.history),
    })
}

fn task_json(app: &App, t: &Task) -> Value {
    let config = &app.config;
    json!({
        "id": t.id, "kind": t.kind, "client": t.client, "client_name": client_name(app, t.client.as_deref()),
        "order": t.order, "due_at": t.due_at.map(|d| ts(config, d)), "state": t.state, "assignee": t.assignee,
        "summary": t.summary, "created_at": ts(config, t.created_at), "message_id": t.message_id,
        "original_kept": t.origin.is_some(), "history": history_json(config, &t.history),
    })
}

fn outgoing_json(config: &Config, m: &Outgoing) -> Value {
    json!({"id": m.id, "message_id": m.message_id, "kind": m.kind, "to": m.to, "subject": m.subject, "state": m.state,
           "attempts": m.attempts, "created_at": ts(config, m.created_at), "sent_at": m.sent_at.map(|t| ts(config, t)),
           "next_attempt": m.next_attempt.map(|t| ts(config, t)), "error": m.error, "order": m.order,
           "held": m.held.as_ref().map(|h| json!({"by": h.by, "at": ts(config, h.at)})),
           "cancelled": m.cancelled.as_ref().map(|c| json!({"by": c.by, "at": ts(config, c.at), "why": c.why}))})
}

/// One JSON line.
pub(super) fn lines(values: impl Iterator<Item = Value>) -> String {
    let v: Vec<Value> = values.collect();
    super::table::lines(v.iter())
}

/// Does a record pass the list's filters? (`client`: its id; `who`: the
/// person it is for; `at`: when it came.)
fn passes(l: &ListOptions, app: &App, client: Option<&str>, who: &[String], at: DateTime<Utc>, open: bool) -> bool {
    if l.open && !open {
        return false;
    }
    if let Some(c) = &l.client {
        let c = c.to_ascii_lowercase();
        let name = client_name(app, client);
        if client.map(str::to_ascii_lowercase).as_deref() != Some(c.as_str())
            && !crate::text::fold(&name).contains(&crate::text::fold(&c))
        {
            return false;
        }
        if client.is_none() {
            return false;
        }
    }
    if let Some(a) = &l.assignee
        && !who.iter().any(|w| w.eq_ignore_ascii_case(a))
    {
        return false;
    }
    l.since.is_none_or(|s| at >= s)
}

/// Compute the answer to a read command.
/// `live` is the running daemon's view of its source (None when the
/// command opened the store itself: no daemon runs).
pub fn answer(
    store: &Store,
    app: &App,
    q: &Query,
    now: DateTime<Utc>,
    live: Option<&crate::mailbox::Health>,
) -> anyhow::Result<Answer> {
    let config = &app.config;
    let desk = app.desk();
    let mut out = String::new();
    match q {
        Query::Extras { month, list } => {
            let rows = crate::desk::extras::rows(&app.directory, &app.settings.calendar, &store.orders()?, month);
            if list.format == Format::Csv {
                return Ok(Answer::ok(crate::desk::extras::csv(&rows)));
            }
            let mut t = Rows::new(crate::desk::extras::CSV_HEADERS);
            for r in &rows {
                t.push(
                    vec![r.order.clone(), r.client.clone(), r.date.clone(), r.reason.clone(), r.by.clone()],
                    json!({"order": r.order, "client": r.client, "at": ts(config, r.at), "reason": r.reason, "by": r.by,
                           "executive": r.executive, "kind": r.kind}),
                );
            }
            return Ok(Answer::ok(t.narrow(3, 70).render(list.format)));
        }
        Query::Orders { show: Some(id), json, .. } => {
            let id = id.to_ascii_uppercase();
            let o = store.order(&id)?.ok_or_else(|| anyhow::anyhow!("no order {id}"))?;
            if *json {
                return Ok(Answer::ok(lines(std::iter::once(order_json(app, &o)))));
            }
            let _ = writeln!(out, "Orden {}  —  {} ({})", o.id, client_name(app, Some(&o.client)), o.client);
            let _ = writeln!(out, "Etapa:      {}{}", o.stage, if o.closed { " (cerrada)" } else { "" });
            let regime = app.rules.desk.checklist(&o.regime).map(|c| c.name.clone()).unwrap_or_default();
            let _ = writeln!(out, "Régimen:    {} {regime}", o.regime);
            let _ = writeln!(out, "Abierta:    {}  por «{}»", local(config, o.opened_at), o.subject);
            let _ = writeln!(out, "Asistente:  {}", desk.assistant_of(Some(&o.client)));
            for r in crate::desk::context::refs_block(&o.references) {
                let values: Vec<&str> =
                    r["values"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
                let _ =
                    writeln!(out, "{:<11} {}", format!("{}:", r["label"].as_str().unwrap_or("")), values.join(", "));
            }
            if let Some(v) = &o.vessel {
                let _ = writeln!(out, "Nave:       {v}");
            }
            if let Some(e) = &o.eta {
                let _ = writeln!(out, "ETA:        {e}");
            }
            if let Some(d) = o.review_due {
                let _ = writeln!(out, "Revisión:   vence {}", local(config, d));
            }
            if let Some(d) = o.regime_expires {
                let _ = writeln!(out, "Régimen vence: {}", local(config, d));
            }
            for l in &o.money.liquidations {
                let state = match l.paid_at {
                    Some(t) => format!("pagada el {}", local(config, t)),
                    None => "pendiente".to_string(),
                };
                let amount = crate::desk::commands::amount_words(&l.amount);
                let _ = writeln!(
                    out,
                    "Liquidación: {} {amount}, vence {} — {state}",
                    l.currency,
                    l.due_date.format("%d/%m/%Y")
                );
            }
            for p in &o.money.payments {
                let amount = match (&p.currency, &p.amount) {
                    (Some(c), Some(a)) => format!("{c} {}", crate::desk::commands::amount_words(a)),
                    _ => "monto no indicado".to_string(),
                };
                let vouchers: Vec<&str> = p.vouchers.iter().map(|v| v.name.as_str()).collect();
                let _ = writeln!(
                    out,
                    "Pago:       {} {amount} ({}) de {} {}",
                    local(config, p.at),
                    p.kind,
                    p.from,
                    vouchers.join(", ")
                );
            }
            for r in &o.money.requests {
                let amount = crate::desk::commands::amount_words(&r.amount);
                let state = match r.state {
                    crate::desk::model::RequestState::Enviada => "enviada a administración",
                    crate::desk::model::RequestState::Retenida => "retenida: fondos pedidos al cliente",
                    crate::desk::model::RequestState::Liberada => "liberada y enviada a administración",
                };
                let _ = writeln!(
                    out,
                    "Solicitud de pago: {} {} {amount} a {} — {state}",
                    r.concept, r.currency, r.beneficiary
                );
            }
            for r in &o.thirdparty.requests {
                let who = app.directory.counterpart(&r.counterpart).map(|p| p.name.as_str()).unwrap_or(&r.counterpart);
                let _ = writeln!(
                    out,
                    "Solicitud a tercero: {} a {who}, enviada {}, vence {} — {}{}",
                    crate::desk::counterparts::kind_words(r.kind),
                    local(config, r.at),
                    local(config, r.due_at),
                    r.state,
                    if r.reminded_at.is_some() { " (recordatorio enviado)" } else { "" }
                );
            }
            if let Some(t) = o.thirdparty.arrived_at {
                let _ = writeln!(out, "Llegada:    avisada el {}", local(config, t));
            }
            let missing: Vec<&str> = o.missing.iter().map(|k| crate::desk::kind_name(k)).collect();
            let _ =
                writeln!(out, "Faltan:     {}", if missing.is_empty() { "nada".into() } else { missing.join(", ") });
            let _ = writeln!(out, "\nDocumentos ({}):", o.documents.len());
            let mut rows = Rows::new(&["DOCUMENTO", "TIPO", "TAMAÑO", "RECIBIDO", "ARCHIVO"]);
            for d in &o.documents {
                let file = if d.path.is_empty() {
                    "(no guardado)".to_string()
                } else {
                    config.store.attachments_path.join(&d.path).display().to_string()
                };
                let kind = match &d.unreadable {
                    Some(why) => format!(
                        "{} (ilegible: {})",
                        crate::desk::kind_name(&d.kind),
                        crate::desk::context::unreadable_es(why)
                    ),
                    None => crate::desk::kind_name(&d.kind).to_string(),
                };
                rows.push(
                    vec![d.name.clone(), kind, crate::desk::size_words(d.size), local(config, d.received_at), file],
                    Value::Null,
                );
            }
            out.push_str(&rows.render(Format::Table));
            let _ = writeln!(out, "(buzon orders export {} --to CARPETA los guarda con estos nombres)", o.id);
            let _ = writeln!(out, "\nHistoria:");
            for e in &o.history {
                let _ = writeln!(
                    out,
                    "  {}  {}{}",
                    local(config, e.at),
                    e.what,
                    if e.is_public() { "" } else { "  [interno]" }
                );
            }
        }
        Query::Orders { show: None, list, .. } => {
            let mut orders = store.orders()?;
            orders.sort_by(|a, b| a.id.cmp(&b.id));
            let mut rows =
                Rows::new(&["ORDEN", "CLIENTE", "ETAPA", "RÉGIMEN", "DOCS", "FALTAN", "ETA", "ABIERTA", "ESTADO"]);
            for o in orders.iter().filter(|o| {
                let who = [desk.assistant_of(Some(&o.client))];
                passes(list, app, Some(&o.client), &who, o.opened_at, o.is_open())
            }) {
                let missing: Vec<&str> = o.missing.iter().map(|k| crate::desk::kind_name(k)).collect();
                rows.push(
                    vec![
                        o.id.clone(),
                        client_name(app, Some(&o.client)),
                        o.stage.clone(),
                        o.regime.clone(),
                        o.documents.len().to_string(),
                        missing.join(", "),
                        o.eta.clone().unwrap_or_default(),
                        local(config, o.opened_at),
                        if o.closed { "cerrada".into() } else { "abierta".into() },
                    ],
                    order_json(app, o),
                );
            }
            return Ok(Answer::ok(rows.narrow(1, 28).narrow(5, 40).render(list.format)));
        }
        Query::Reclamos { show: Some(id), json, .. } => {
            let id = id.to_ascii_uppercase();
            let r = store.reclamo(&id)?.ok_or_else(|| anyhow::anyhow!("no reclamo {id}"))?;
            if *json {
                return Ok(Answer::ok(lines(std::iter::once(reclamo_json(app, &r, now)))));
            }
            let cal = &app.settings.calendar;
            let _ = writeln!(out, "Reclamo {}  —  {}", r.id, r.state);
            let _ = writeln!(
                out,
                "Cliente:    {}",
                if r.client.is_some() {
                    client_name(app, r.client.as_deref())
                } else {
                    "(remitente no registrado)".into()
                }
            );
            let _ = writeln!(out, "Remitente:  {}", r.from);
            let _ = writeln!(out, "Orden:      {}", r.order.as_deref().unwrap_or("(sin orden identificada)"));
            let _ = writeln!(out, "Asunto:     {}", r.subject);
            let _ = writeln!(out, "Recibido:   {}", local(config, r.received_at));
            let clock = if !r.is_open() {
                String::new()
            } else if r.due_at < now {
                format!("  (VENCIDO hace {:.1} h útiles)", cal.business_hours_between(r.due_at, now))
            } else {
                format!("  (quedan {:.1} h útiles)", cal.business_hours_between(now, r.due_at))
            };
            let _ = writeln!(out, "Vence:      {}{}", local(config, r.due_at), clock.replace('.', ","));
            if let Some(c) = r.closed_instant() {
                let _ = writeln!(out, "Cerrado:    {}", local(config, c));
            }
            if let Some(res) = &r.resolution {
                let _ = writeln!(out, "Resolución: {res}");
            }
            let _ = writeln!(out, "\nLo que escribió:\n{}", r.excerpt);
            let _ = writeln!(out, "\nHistoria:");
            for e in &r.history {
                let _ = writeln!(out, "  {}  {}", local(config, e.at), e.what);
            }
        }
        Query::Reclamos { show: None, list, .. } => {
            let mut v: Vec<Reclamo> = store.reclamos()?;
            v.sort_by(|a, b| a.id.cmp(&b.id));
            let mut rows =
                Rows::new(&["RECLAMO", "ESTADO", "CLIENTE", "ORDEN", "RECIBIDO", "VENCE", "PLAZO", "ASUNTO"]);
            for r in v.iter().filter(|r| {
                let who: Vec<String> =
                    [Some(desk.assistant_of(r.client.as_deref())), desk.executive_of(r.client.as_deref())]
                        .into_iter()
                        .flatten()
                        .collect();
                passes(list, app, r.client.as_deref(), &who, r.received_at, r.is_open())
            }) {
                let plazo = if !r.is_open() {
                    "cerrado".to_string()
                } else if r.due_at < now {
                    "VENCIDO".into()
                } else {
                    "en plazo".into()
                };
                let client = if r.client.is_some() { client_name(app, r.client.as_deref()) } else { r.from.clone() };
                rows.push(
                    vec![
                        r.id.clone(),
                        r.state.to_string(),
                        client,
                        r.order.clone().unwrap_or_default(),
                        local(config, r.received_at),
                        local(config, r.due_at),
                        plazo,
                        r.subject.clone(),
                    ],
                    reclamo_json(app, r, now),
                );
            }
            return Ok(Answer::ok(rows.narrow(2, 28).narrow(7, 50).render(list.format)));
        }
        Query::Tasks { show: Some(id), json, .. } => {
            let id = id.to_ascii_uppercase();
            let t = store.task(&id)?.ok_or_else(|| anyhow::anyhow!("no task {id}"))?;
            if *json {
                return Ok(Answer::ok(lines(std::iter::once(task_json(app, &t)))));
            }
            let _ = writeln!(out, "Tarea {}  —  {}  ({})", t.id, t.state, t.kind);
            let _ = writeln!(out, "Para:       {}", t.assignee);
            let _ = writeln!(
                out,
                "Cliente:    {}",
                if t.client.is_some() { client_name(app, t.client.as_deref()) } else { "—".into() }
            );
            let _ = writeln!(out, "Orden:      {}", t.order.as_deref().unwrap_or("—"));
            let _ = writeln!(out, "Creada:     {}", local(config, t.created_at));
            let _ = writeln!(
                out,
                "Vence:      {}",
                t.due_at.map(|d| local(config, d)).unwrap_or_else(|| "sin fecha".into())
            );
            let _ = writeln!(out, "Qué:        {}", t.summary);
            if let Some(mid) = &t.message_id {
                let kept = if t.origin.is_some() {
                    "guardado: buzon reprocess lo pasa de nuevo por el escritorio"
                } else {
                    "no guardado"
                };
                let _ = writeln!(out, "Correo:     <{mid}> ({kept})");
            }
            if !t.history.is_empty() {
                let _ = writeln!(out, "\nHistoria:");
                for e in &t.history {
                    let _ = writeln!(out, "  {}  {}", local(config, e.at), e.what);
                }
            }
        }
        Query::Tasks { show: None, list, .. } => {
            let mut v: Vec<Task> = store.tasks()?;
            v.sort_by(|a, b| a.id.cmp(&b.id));
            let mut rows = Rows::new(&["TAREA", "ESTADO", "TIPO", "CLIENTE", "ORDEN", "VENCE", "PARA", "QUÉ"]);
            for t in v.iter().filter(|t| {
                passes(list, app, t.client.as_deref(), std::slice::from_ref(&t.assignee), t.created_at, t.is_open())
            }) {
                rows.push(
                    vec![
                        t.id.clone(),
                        t.state.to_string(),
                        t.kind.clone(),
                        client_name(app, t.client.as_deref()),
                        t.order.clone().unwrap_or_default(),
                        t.due_at.map(|d| local(config, d)).unwrap_or_else(|| "sin fecha".into()),
                        t.assignee.clone(),
                        t.summary.clone(),
                    ],
                    task_json(app, t),
                );
            }
            return Ok(Answer::ok(rows.narrow(3, 24).narrow(7, 70).render(list.format)));
        }
        Query::Outbox { list } => {
            let mut v = store.outbox()?;
            v.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            let mut rows = Rows::new(&["ID", "ESTADO", "TIPO", "PARA", "CREADO", "ENVIADO", "ASUNTO"]);
            for m in v.iter().filter(|m| {
                let open = matches!(
                    m.state,
                    crate::desk::model::OutboxState::Pendiente | crate::desk::model::OutboxState::Retenido
                );
                let client = match &m.order {
                    Some(o) => store.order(o).ok().flatten().map(|o| o.client),
                    None => None,
                };
                passes(&ListOptions { client: None, ..list.clone() }, app, None, &m.to, m.created_at, open)
                    && list.client.as_ref().is_none_or(|c| client.as_deref() == Some(c.as_str()))
            }) {
                let state = match (&m.held, m.state) {
                    (Some(h), crate::desk::model::OutboxState::Retenido) => format!("retenido por {}", h.by),
                    _ => m.state.to_string(),
                };
                rows.push(
                    vec![
                        m.id.clone(),
                        state,
                        m.kind.clone(),
                        m.to.join(", "),
                        local(config, m.created_at),
                        m.sent_at.map(|t| local(config, t)).unwrap_or_default(),
                        m.subject.clone(),
                    ],
                    outgoing_json(config, m),
                );
            }
            return Ok(Answer::ok(rows.narrow(0, 44).narrow(3, 40).narrow(6, 60).render(list.format)));
        }
        Query::Digest { to, json } => {
            let s = &app.settings;
            let all = crate::desk::assistants(s, &app.directory);
            let is_sup = |a: &str| s.supervisors.iter().any(|x| x.eq_ignore_ascii_case(a));
            // Without --to: every digest that would go out now; with it, that
            // person's (an assistant's, the supervisors', or both).
            let (who, sup): (Vec<String>, bool) = match to {
                Some(a) => {
                    let a = a.to_ascii_lowercase();
                    let assistant = all.contains(&a) || !is_sup(&a);
                    (if assistant { vec![a.clone()] } else { Vec::new() }, is_sup(&a))
                }
                None => (all, !s.supervisors.is_empty()),
            };
            let mut values = Vec::new();
            for a in &who {
                let (d, ctx) = crate::desk::render_digest(&desk, store, a, now)?;
                let r = app
                    .templates
                    .render("resumen_asistente", &ctx)
                    .map_err(|e| anyhow::anyhow!("template resumen_asistente: {e:#}"))?;
                values.push(json!({"to": [a], "kind": "asistente", "subject": r.subject, "digest": d, "text": r.text, "html": r.html}));
                let _ = writeln!(out, "To: {a}\nSubject: {}\n\n{}", r.subject, r.text);
            }
            if sup {
                let (d, ctx) = crate::desk::render_supervisor_digest(&desk, store, now)?;
                let r = app
                    .templates
                    .render("resumen_supervision", &ctx)
                    .map_err(|e| anyhow::anyhow!("template resumen_supervision: {e:#}"))?;
                values.push(json!({"to": s.supervisors, "kind": "supervision", "subject": r.subject, "digest": d, "text": r.text, "html": r.html}));
                let _ = writeln!(out, "To: {}\nSubject: {}\n\n{}", s.supervisors.join(", "), r.subject, r.text);
            }
            if *json {
                return Ok(Answer::ok(lines(values.into_iter())));
            }
        }
        Query::Status { json } => {
            let (text, healthy) = super::status::answer(store, config, *json, now, live)?;
            return Ok(Answer { text, healthy });
        }
        Query::Control(c) => return super::control::answer(store, app, c, now),
    }
    Ok(Answer::ok(out))
}
