//! Commands that fix what the machine got wrong: merge two orders, move a
//! document, attach a triaged mail to an order or a client.

use super::super::documents::missing;
use super::super::draft::Draft;
use super::super::effect::Effect;
use super::super::model::{Order, TaskState, ThreadLink};
use super::super::view::ViewResult;
use super::{Command, Done, entry};

/// Both orders of a fix, with their missing lists recomputed and the
/// change recorded in each history.
fn save_both(d: &mut Draft<'_>, mut a: Order, mut b: Order, who: &str, a_says: String, b_says: String) {
    let rules = &d.desk.rules.desk;
    a.missing = missing(rules, &a.regime, &a.documents);
    if !b.closed {
        b.missing = missing(rules, &b.regime, &b.documents);
    }
    a.history.push(entry(d, who, a_says));
    b.history.push(entry(d, who, b_says));
    a.updated_at = d.now;
    b.updated_at = d.now;
    d.save_order(b);
    d.save_order(a);
}

/// `#fusionar OC-A OC-B`: B's documents, references and thread go to A;
/// B is closed with a pointer to A. Both must be of one client.
pub fn merge(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let other = c.rest.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
    if other.is_empty() || other == c.target {
        return Ok(Err("indique dos órdenes distintas: #fusionar OC-A OC-B".into()));
    }
    let (Some(mut a), Some(mut b)) = (d.order(&c.target)?, d.order(&other)?) else {
        return Ok(Err(format!("no existe la orden {} o {other}", c.target)));
    };
    if a.client != b.client {
        return Ok(Err(format!("{} y {} son de clientes distintos", a.id, b.id)));
    }
    for doc in std::mem::take(&mut b.documents) {
        if !a.documents.iter().any(|x| x.sha256 == doc.sha256) {
            a.documents.push(doc);
        }
    }
    for (kind, values) in &b.references {
        a.references.entry(kind.clone()).or_default().extend(values.iter().cloned());
    }
    for mid in &b.message_ids {
        if !a.message_ids.contains(mid) {
            a.message_ids.push(mid.clone());
        }
        d.push(Effect::LinkThread {
            message_id: mid.clone(),
            link: ThreadLink { order: Some(a.id.clone()), reclamo: None },
        });
    }
    a.eta = a.eta.take().or(b.eta.take());
    a.vessel = a.vessel.take().or(b.vessel.take());
    b.missing.clear();
    b.closed = true;
    let msg = format!("orden {} fusionada en {}", b.id, a.id);
    let (a_says, b_says) = (format!("Fusionada con {}", b.id), format!("Fusionada en {}", a.id));
    save_both(d, a, b, who, a_says, b_says);
    Ok(Ok(msg))
}

/// `#mover OC-A <documento> OC-B`: the document (file name or a SHA-256
/// prefix of at least 8) leaves A for B, of the same client.
pub fn move_document(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let Some((doc, to)) = c.rest.trim().rsplit_once(char::is_whitespace) else {
        return Ok(Err("use #mover OC-A <documento> OC-B".into()));
    };
    let (doc, to) = (doc.trim(), to.trim().to_ascii_uppercase());
    let (Some(mut a), Some(mut b)) = (d.order(&c.target)?, d.order(&to)?) else {
        return Ok(Err(format!("no existe la orden {} o {to}", c.target)));
    };
    if a.id == b.id || a.client != b.client {
        return Ok(Err("las órdenes deben ser distintas y del mismo cliente".into()));
    }
    let lower = doc.to_lowercase();
    let found = a
        .documents
        .iter()
        .position(|x| x.name.to_lowercase() == lower || (lower.len() >= 8 && x.sha256.starts_with(lower.as_str())));
    let Some(i) = found else {
        let names: Vec<&str> = a.documents.iter().map(|x| x.name.as_str()).collect();
        return Ok(Err(format!("{} no tiene el documento «{doc}» (tiene: {})", a.id, names.join(", "))));
    };
    let moved = a.documents.remove(i);
    let name = moved.name.clone();
    if !b.documents.iter().any(|x| x.sha256 == moved.sha256) {
        b.documents.push(moved);
    }
    let msg = format!("documento {name} movido de {} a {}", a.id, b.id);
    let (a_says, b_says) =
        (format!("Documento {name} movido a {}", b.id), format!("Documento {name} recibido de {}", a.id));
    save_both(d, a, b, who, a_says, b_says);
    Ok(Ok(msg))
}

/// `#asignar T-… OC-…` or `#asignar T-… <cliente>`: the mail of a task
/// (one that went to triage) belongs to that order or client; later replies
/// in its thread follow. The task is done.
pub fn assign(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let desk = d.desk;
    let Some(mut t) = d.task(&c.target)? else {
        return Ok(Err(format!("no existe la tarea {}", c.target)));
    };
    let dest = c.rest.split_whitespace().next().unwrap_or("");
    if dest.is_empty() {
        return Ok(Err("use #asignar T-000101 OC-2026-000123 o #asignar T-000101 <id de cliente>".into()));
    }
    let msg = if let Some(mut o) = d.order(&dest.to_ascii_uppercase())? {
        if let Some(mid) = &t.message_id {
            if !o.message_ids.contains(mid) {
                o.message_ids.push(mid.clone());
            }
            d.push(Effect::LinkThread {
                message_id: mid.clone(),
                link: ThreadLink { order: Some(o.id.clone()), reclamo: None },
            });
        }
        o.history.push(entry(d, who, format!("Correo de la tarea {} asignado a la orden", t.id)));
        o.updated_at = d.now;
        t.order = Some(o.id.clone());
        t.client = Some(o.client.clone());
        let msg = format!("tarea {} asignada a la orden {}", t.id, o.id);
        d.save_order(o);
        msg
    } else if let Some(client) = desk.directory.client(&dest.to_ascii_lowercase()) {
        t.client = Some(client.id.clone());
        t.assignee = client.assistant.clone();
        format!("tarea {} asignada al cliente {}", t.id, client.name)
    } else {
        let ids: Vec<&str> = desk.directory.clients.iter().map(|c| c.id.as_str()).collect();
        let hint = super::super::suggest::did_you_mean(dest, &ids);
        return Ok(Err(format!("«{dest}» no es una orden ni un cliente conocido.{hint}")));
    };
    t.history.push(super::entry(d, who, msg.clone()));
    t.state = TaskState::Hecha;
    d.save_task(t);
    Ok(Ok(msg))
}
