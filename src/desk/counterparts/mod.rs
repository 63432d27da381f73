//! Counterparts: depósitos temporales, shipping lines and their agents,
//! airlines and transport companies (`[[counterpart]]` in the clients
//! file). The desk asks them things for one order (`#previo`, `#retiro`,
//! `#llegada`, `#bl`, and by itself the arrival question and the volante),
//! waits for the answer with a deadline in business hours, files the
//! answer in the order, and reminds them once.
//!
//! A counterpart is only ever sent the data of the order it is asked
//! about: the request's context is built here from that order alone.
//! Only mail from a counterpart's registered address whose DMARC did not
//! fail is its mail (`Sender::Counterpart`): anyone else claiming to be a
//! depósito changes no request.
mod answers;
mod asking;
mod automatic;
mod overdue;

use serde_json::{Value, json};

use super::RequestSettings;
use super::context::local_fmt;
use super::model::{Order, RequestKind, Task};
use crate::calendar::BusinessCalendar;
use crate::clients::{Counterpart, CounterpartKind, Directory};
pub use answers::{answered, incoming};
pub use asking::{Ask, request};
pub use automatic::{arrival_check_at, eta_instant, order_due, order_instants, says_arrived, volante_check_at};
use chrono::{DateTime, NaiveDate, Utc};
pub use overdue::overdue;

/// Who sends the automatic requests (in the order's records).
pub const AUTOMATIC: &str = "buzon";

/// The task kind that follows a request (`solicitud_previo`…).
pub fn task_kind(kind: RequestKind) -> String {
    format!("solicitud_{}", kind.as_str())
}

/// Is this task one that follows a counterpart request?
pub fn is_request_task(t: &Task) -> bool {
    t.kind.strip_prefix("solicitud_").is_some_and(|k| REQUEST_KINDS.iter().any(|(n, _)| *n == k))
}

const REQUEST_KINDS: &[(&str, RequestKind)] = &[
    ("previo", RequestKind::Previo),
    ("retiro", RequestKind::Retiro),
    ("llegada", RequestKind::Llegada),
    ("bl", RequestKind::Bl),
    ("volante", RequestKind::Volante),
];

/// What a request is called in Spanish mail ("solicitud de previo").
pub fn kind_words(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Previo => "previo",
        RequestKind::Retiro => "retiro de la carga",
        RequestKind::Llegada => "confirmación de llegada",
        RequestKind::Bl => "emisión del BL",
        RequestKind::Volante => "volante de despacho",
    }
}

/// Business hours a counterpart has to answer a request of `kind`.
pub fn hours(s: &RequestSettings, kind: RequestKind) -> u32 {
    match kind {
        RequestKind::Previo => s.previo_hours,
        RequestKind::Retiro => s.retiro_hours,
        RequestKind::Llegada => s.llegada_hours,
        RequestKind::Bl => s.bl_hours,
        RequestKind::Volante => s.volante_hours,
    }
}

/// Which kinds of counterpart answer a request of `kind`.
fn answers(kind: RequestKind, p: CounterpartKind) -> bool {
    match kind {
        RequestKind::Previo | RequestKind::Retiro | RequestKind::Volante => p == CounterpartKind::Deposito,
        RequestKind::Llegada | RequestKind::Bl => p.is_line(),
    }
}

/// `depósito`, `naviera o agente` (for errors).
fn wanted(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Previo | RequestKind::Retiro | RequestKind::Volante => "depósito",
        RequestKind::Llegada | RequestKind::Bl => "naviera, agente o aerolínea",
    }
}

/// The key of the command that names the counterpart of `kind`.
pub fn key_of(kind: RequestKind) -> &'static str {
    match kind {
        RequestKind::Previo | RequestKind::Retiro | RequestKind::Volante => "deposito",
        RequestKind::Llegada | RequestKind::Bl => "naviera",
    }
}

/// The four-letter prefixes of an order's BLs (`MEDUHG271461` → `MEDU`).
pub fn bl_prefixes(o: &Order) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for bl in o.references.get("bl").into_iter().flatten() {
        let p: String = bl.chars().take(4).collect::<String>().to_ascii_uppercase();
        if p.len() == 4 && p.chars().all(|c| c.is_ascii_alphabetic()) && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The counterpart a request of `kind` about `o` goes to: the one named,
/// else the client's depósito, the line of the order's BL prefix, or the
/// only counterpart of that kind. A clear Spanish error otherwise.
pub fn find<'a>(
    dir: &'a Directory,
    kind: RequestKind,
    named: Option<&str>,
    o: &Order,
) -> Result<&'a Counterpart, String> {
    let has = |k: &str| o.references.get(k).is_some_and(|v| !v.is_empty());
    let (sea, air) = (has("bl") || has("container"), has("awb"));
    let fit: Vec<&'a Counterpart> = dir
        .counterparts
        .iter()
        .filter(|p| answers(kind, p.kind))
        // A sea shipment's data never goes to an airline, nor an air one's to a shipping line.
        .filter(|p| match (sea, air) {
            (true, false) => p.kind != CounterpartKind::Aerolinea,
            (false, true) => p.kind == CounterpartKind::Aerolinea || !p.kind.is_line(),
            _ => true,
        })
        .collect();
    let ids: Vec<&str> = fit.iter().map(|p| p.id.as_str()).collect();
    if let Some(name) = named {
        if let Some(p) = fit.iter().copied().find(|p| p.id.eq_ignore_ascii_case(name)) {
            return Ok(p);
        }
        if let Some(p) = dir.counterparts.iter().find(|p| p.id.eq_ignore_ascii_case(name)) {
            return Err(format!("«{name}» ({}) no es un {}", p.name, wanted(kind)));
        }
        let hint = super::suggest::did_you_mean(name, &ids);
        let known = if ids.is_empty() { "ninguno registrado".to_string() } else { ids.join(", ") };
        return Err(format!(
            "no hay un {} registrado con el código «{name}».{hint} Registrados: {known}",
            wanted(kind)
        ));
    }
    if answers(kind, CounterpartKind::Deposito)
        && let Some(dp) = dir.client(&o.client).and_then(|c| c.deposito.as_deref())
        && let Some(p) = fit.iter().copied().find(|p| p.id == dp)
    {
        return Ok(p);
    }
    let mut fit = fit;
    if !answers(kind, CounterpartKind::Deposito) {
        let prefixes = bl_prefixes(o);
        let by_prefix: Vec<&'a Counterpart> =
            fit.iter().copied().filter(|p| p.bl_prefixes.iter().any(|b| prefixes.contains(b))).collect();
        // A line and its agent in Peru both list the prefix: the agent is who answers.
        let agents: Vec<&'a Counterpart> =
            by_prefix.iter().copied().filter(|p| p.kind == CounterpartKind::Agente).collect();
        match (by_prefix.as_slice(), agents.as_slice()) {
            ([one], _) | (_, [one]) => return Ok(one),
            ([], _) => {
                // A line that lists other prefixes is not this BL's line:
                // its order's data must not go to it.
                let listed: Vec<&str> =
                    fit.iter().filter(|p| !p.bl_prefixes.is_empty()).map(|p| p.id.as_str()).collect();
                if !prefixes.is_empty() {
                    // Only a line that lists no prefixes may still be this BL's.
                    fit.retain(|p| p.bl_prefixes.is_empty());
                }
                if !prefixes.is_empty() && !listed.is_empty() && fit.is_empty() {
                    return Err(format!(
                        "ninguna naviera o agente registrado emite BL con el prefijo {} (registrados: {}); indique {}=…",
                        prefixes.join(", "),
                        listed.join(", "),
                        key_of(kind)
                    ));
                }
            }
            (many, _) => {
                let names: Vec<&str> = many.iter().map(|p| p.id.as_str()).collect();
                return Err(format!(
                    "varias contrapartes emiten BL con el prefijo {}: {}; indique {}=…",
                    prefixes.join(", "),
                    names.join(", "),
                    key_of(kind)
                ));
            }
        }
    }
    match fit.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "no hay ningún {} registrado en clients.toml ([[counterpart]]) a quien enviar la solicitud",
            wanted(kind)
        )),
        many => Err(format!(
            "hay varios de tipo {} ({}) y la orden no indica cuál; indique {}=…",
            wanted(kind),
            many.iter().map(|p| p.id.as_str()).collect::<Vec<_>>().join(", "),
            key_of(kind)
        )),
    }
}

/// What a request to a counterpart shows of its order: the shipment's
/// references, vessel, ETA, DAM and the consignee — nothing else of the
/// client, and nothing of any other order.
pub fn shipment(dir: &Directory, o: &Order) -> Value {
    let refs =
        |k: &str| -> Vec<String> { o.references.get(k).map(|v| v.iter().cloned().collect()).unwrap_or_default() };
    let client = dir.client(&o.client);
    json!({
        "id": o.id,
        "bl": refs("bl"),
        "awb": refs("awb"),
        "containers": refs("container"),
        "dam": refs("dam").first(),
        "vessel": o.vessel,
        "eta": o.eta,
        "consignee": client.map(|c| c.name.clone()),
        "ruc": client.map(|c| c.ruc.clone()),
    })
}

/// What the templates see of a request: what is asked, when, for which
/// date, with which transport, by when, the task that follows it.
pub(super) fn ask_block(
    kind: RequestKind,
    at: DateTime<Utc>,
    date: Option<NaiveDate>,
    transport: Option<&str>,
    due: DateTime<Utc>,
    task: &str,
    cal: &BusinessCalendar,
) -> Value {
    json!({
        "kind": kind.as_str(),
        "what": kind_words(kind),
        "at": local_fmt(cal, at),
        "date": date.map(|day| day.format("%d/%m/%Y").to_string()),
        "transport": transport,
        "due": local_fmt(cal, due),
        "task": task,
    })
}
