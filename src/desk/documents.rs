//! `documentos`: a client (or its partner) sends customs documents. The
//! order is found (order tag, thread, shared reference) or opened; the
//! documents are filed by SHA-256; the sender gets an acknowledgement with
//! what was received and what the regime's checklist still needs.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

use serde_json::json;

use super::context::{kind_name, mail_context, order_context};
use super::draft::Draft;
use super::effect::Sequence;
use super::matching::{client_of, client_sender, forwarded_client, link_ours, link_thread, pointed_orders};
use super::model::{HistoryEntry, Order, OrderDocument, ThreadLink};
use super::reply::{Letter, Threading, Verdict};
use super::view::ViewResult;
use super::{Desk, Incoming};
use crate::refs::References;
use crate::rules::checklists::DeskRules;

/// The required document kinds of `regime` not among the readable `docs`.
pub fn missing(rules: &DeskRules, regime: &str, docs: &[OrderDocument]) -> Vec<String> {
    let have: BTreeSet<&str> = docs.iter().filter(|d| d.unreadable.is_none()).map(|d| d.kind.as_str()).collect();
    rules
        .checklist(regime)
        .map(|c| c.required.iter().filter(|k| !have.contains(k.as_str())).cloned().collect())
        .unwrap_or_default()
}

/// The stage once documents arrived: the first stage while something is
/// missing, the second once complete; later stages are kept.
fn stage_after_documents(rules: &DeskRules, order: &Order) -> String {
    let stages = &rules.stages;
    let first = stages.first().cloned().unwrap_or_else(|| "abierta".into());
    let complete = stages.get(1).cloned().unwrap_or_else(|| first.clone());
    if order.stage == first || order.stage == complete {
        if order.missing.is_empty() { complete } else { first }
    } else {
        order.stage.clone()
    }
}

/// Peruvian ports and airports a route names.
const PERU: &str = r"(callao|paita|matarani|\bilo\b|chancay|salaverry|pisco|lima\b|\blim\b|jorge chavez)";

static EXPORT_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    super::re(&format!(
        r"(?i)(port of loading|puerto de (carga|embarque)|\bpol\b|airport of departure|aeropuerto de (salida|origen)|\borigen\b|\bfrom\b)\W{{0,4}}{PERU}"
    ))
});
static IMPORT_ROUTE: LazyLock<Regex> = LazyLock::new(|| {
    super::re(&format!(
        r"(?i)(port of discharge|puerto de (descarga|destino)|\bpod\b|final destination|airport of destination|aeropuerto de destino|\bdestino\b|\beta\b)\W{{0,4}}{PERU}"
    ))
});

/// The regime of a new order, and why, weighing the evidence in this
/// order: the client's configured regime, a DAM number's regime code, the
/// route (a Peruvian port of loading is an export, of discharge an
/// import), and the words of what the sender wrote now (not its signature:
/// "Export Operations" under a Miami forwarder's name says nothing).
fn infer_regime(desk: &Desk<'_>, m: &Incoming<'_>, client: &str) -> (String, String) {
    let rb = &desk.rules.desk;
    let known = |r: &str| rb.checklist(r).is_some();
    if let Some(r) = desk.directory.client(client).and_then(|c| c.regime.clone())
        && known(&r)
    {
        return (r, "régimen del cliente (clients.toml)".into());
    }
    for dam in m.class.references.get("dam").into_iter().flatten() {
        if let Some(r) = crate::refs::dam_regime(dam)
            && known(r)
        {
            return (r.to_string(), format!("código de régimen de la DAM {dam}"));
        }
    }
    let route = format!(
        "{}\n{}\n{}",
        m.mail.new_text,
        m.mail.forwarded_text,
        m.mail.attachments.iter().map(|a| a.text.as_str()).collect::<Vec<_>>().join("\n")
    );
    let export = EXPORT_ROUTE.find(&route);
    let import = IMPORT_ROUTE.find(&route);
    match (export, import) {
        (Some(e), None) if known("40") => return ("40".into(), format!("ruta: «{}»", e.as_str().trim())),
        (None, Some(i)) if known("10") => return ("10".into(), format!("ruta: «{}»", i.as_str().trim())),
        _ => {}
    }
    let text = format!("{}\n{}", m.mail.subject, m.mail.new_text);
    if let Some(r) = rb.regime_from_text(&text) {
        return (r.to_string(), "palabras del correo".into());
    }
    (rb.default_regime().unwrap_or("10").to_string(), "régimen por defecto".into())
}

fn open_order(d: &mut Draft<'_>, m: &Incoming<'_>, client: &str) -> ViewResult<Order> {
    let desk = d.desk;
    let year = chrono::Datelike::year(&desk.settings.calendar.local_date(d.now));
    let n = d.next(Sequence::Orders(year))?;
    let (regime, regime_why) = infer_regime(desk, m, client);
    let mut o = Order {
        id: format!("{}-{year}-{n:06}", desk.settings.order_prefix),
        client: client.to_string(),
        stage: desk.rules.desk.stages.first().cloned().unwrap_or_else(|| "abierta".into()),
        regime,
        regime_why: Some(regime_why),
        references: References::new(),
        documents: Vec::new(),
        missing: Vec::new(),
        opened_at: d.now,
        updated_at: d.now,
        subject: m.mail.subject.clone(),
        eta: None,
        vessel: None,
        review_due: None,
        regime_expires: None,
        message_ids: Vec::new(),
        history: Vec::new(),
        closed: false,
        follow: Default::default(),
        money: Default::default(),
        extras: Vec::new(),
        thirdparty: Default::default(),
        cargo: Default::default(),
    };
    // A new order of a regime out of the client's agreed services is an extra.
    super::extras::check_scope(desk, &mut o, m.from(), d.now);
    Ok(o)
}

pub fn handle(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    let desk = d.desk;
    let mid = m.mail.message_id.clone();
    let client = match m.sender {
        crate::clients::Sender::Staff => match super::volantes::client_by_references(d, m)? {
            Some(c) => Some(c),
            None => forwarded_client(d, m)?,
        },
        _ => client_of(&m.sender),
    };
    let Some(client) = client else {
        let summary = format!(
            "Documentos de un remitente no registrado ({}): «{}». Asignar a un cliente u orden.",
            m.from(),
            m.mail.subject
        );
        d.open_task("triage_documentos", None, None, None, summary, mid)?;
        return Ok(());
    };
    if m.mail.dmarc_failed() {
        let summary = format!(
            "Documentos con DMARC fallido de {}: «{}». Verificar el remitente antes de archivarlos.",
            m.from(),
            m.mail.subject
        );
        d.open_task("remitente_no_verificado", Some(&client), None, None, summary, mid)?;
        return Ok(());
    }
    let existing = pointed_orders(d, m, &client, true)?.into_iter().next();
    let new_order = existing.is_none();
    let mut order = match existing {
        Some(o) => o,
        None => open_order(d, m, &client)?,
    };
    let mut added = Vec::new();
    let mut unreadable = Vec::new();
    for doc in &m.class.documents {
        let Some(att) = m.mail.attachments.get(doc.index) else { continue };
        if order.documents.iter().any(|x| x.sha256 == att.sha256) {
            continue; // the same file sent again
        }
        let k = m.kept.get(doc.index).cloned().unwrap_or_default();
        let reason =
            att.problems.iter().find(|p| p.code.starts_with("pdf_")).map(|p| p.to_string()).or(k.not_kept.clone());
        if let Some(r) = &reason {
            unreadable.push(format!("{} ({r})", att.name));
        }
        let filed = OrderDocument {
            kind: doc.kind.clone(),
            name: att.name.clone(),
            sha256: att.sha256.clone(),
            path: k.path,
            size: att.size as u64,
            received_at: d.now,
            unreadable: reason,
            from: m.from().to_string(),
        };
        added.push(filed.clone());
        order.documents.push(filed);
    }
    // A volante's references are checked against the order, never taken
    // into it (its wrong container would otherwise become the order's);
    // a volante that opens the order has nothing to be checked against.
    let volante_only = if new_order { References::new() } else { super::volantes::references_only_on_volantes(m) };
    for (kind, values) in &m.class.references {
        let skip = volante_only.get(kind);
        order
            .references
            .entry(kind.clone())
            .or_default()
            .extend(values.iter().filter(|v| skip.is_none_or(|s| !s.contains(*v))).cloned());
    }
    order.references.retain(|_, v| !v.is_empty());
    super::volantes::take_cargo(m, &mut order);
    let rules = &desk.rules.desk;
    order.missing = missing(rules, &order.regime, &order.documents);
    order.stage = stage_after_documents(rules, &order);
    order.updated_at = d.now;
    if !added.is_empty() {
        order.review_due =
            Some(desk.settings.calendar.add_business_hours(d.now, f64::from(desk.settings.review_hours)));
    }
    let names: Vec<&str> = added.iter().map(|doc| kind_name(&doc.kind)).collect();
    let what = if new_order {
        format!(
            "Orden abierta con {} {}: {}",
            added.len(),
            if added.len() == 1 { "documento" } else { "documentos" },
            names.join(", ")
        )
    } else if added.is_empty() {
        "Correo recibido sin documentos nuevos".to_string()
    } else {
        format!("Documentos recibidos: {}", names.join(", "))
    };
    order.history.push(HistoryEntry::public(d.now, what));
    if let Some(mid) = &m.mail.message_id
        && !order.message_ids.contains(mid)
    {
        order.message_ids.push(mid.clone());
    }
    d.note(format!("{} {}", if new_order { "opened" } else { "updated" }, order.id));
    if !new_order {
        super::volantes::file(d, m, &mut order, &added, &client)?;
    }
    if !unreadable.is_empty() {
        let summary = format!(
            "Documento(s) ilegible(s) en {}: {}. Pedir una copia legible o revisar a mano.",
            order.id,
            unreadable.join("; ")
        );
        d.open_task("documento_ilegible", Some(&client), Some(&order.id), None, summary, mid.clone())?;
    }
    // Acknowledge to the sender (a client address or the partner).
    let to = m.reply_address(desk.directory);
    let link = ThreadLink { order: Some(order.id.clone()), reclamo: None };
    let verdict = d.may_reply(m, &to)?;
    if verdict == Verdict::Send {
        let registered = client_sender(&m.sender).and_then(|c| desk.directory.client(c));
        let mut ctx = mail_context(desk.settings, m, registered, d.now);
        ctx["order"] = order_context(rules, &desk.settings.calendar, &order);
        ctx["new_order"] = json!(new_order);
        ctx["added"] = json!(added.iter().map(|doc| json!({"kind": doc.kind, "kind_name": kind_name(&doc.kind), "name": doc.name, "unreadable": doc.unreadable})).collect::<Vec<_>>());
        let letter = Letter {
            template: "acuse_documentos",
            to: vec![to],
            ctx: &ctx,
            threading: Threading::Reply(m),
            order: Some(&order.id),
            id: None,
        };
        if let Some(sent) = d.send(letter) {
            order.message_ids.push(sent.clone());
            link_ours(d, sent, link.clone());
        }
    } else {
        // A suppressed acknowledgement is never silent: a person confirms.
        let names: Vec<&str> = added.iter().map(|doc| doc.name.as_str()).collect();
        let summary = format!(
            "No se envió el acuse de recibo a {to} ({}): documentos de la orden {}{}. Confirmar la recepción al cliente.",
            verdict.motivo(),
            order.id,
            if names.is_empty() { String::new() } else { format!(" ({})", names.join(", ")) }
        );
        d.note(format!("acknowledgement not sent: {}", verdict.why()));
        d.open_task("acuse_no_enviado", Some(&client), Some(&order.id), None, summary, mid)?;
    }
    link_thread(d, m, link)?;
    d.save_order(order);
    Ok(())
}
