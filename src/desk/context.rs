//! What the templates see: the desk, the sender, the mail, orders, in the
//! words and formats people read (Spanish names, `dd/mm/aaaa HH:MM` in
//! Lima). One builder per block, used by every handler and time job.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::Incoming;
use super::Settings;
use super::model::Order;
use crate::calendar::BusinessCalendar;
use crate::rules::checklists::DeskRules;

/// Document kind → the name shown to people.
pub fn kind_name(kind: &str) -> &str {
    match kind {
        "factura_comercial" => "Factura comercial",
        "documento_transporte" => "Documento de transporte (BL / AWB)",
        "lista_empaque" => "Lista de empaque",
        "certificado_origen" => "Certificado de origen",
        "poliza_seguro" => "Póliza de seguro",
        "dam" => "DAM",
        "volante" => "Volante de despacho",
        "permiso" => "Permiso / registro sanitario",
        "otro_documento" => "Otro documento",
        other => other,
    }
}

/// `dd/mm/yyyy HH:MM` in the desk's zone.
pub fn local_fmt(cal: &BusinessCalendar, at: DateTime<Utc>) -> String {
    at.with_timezone(&cal.tz).format("%d/%m/%Y %H:%M").to_string()
}

/// The first date written in `text`, as people write them (day first:
/// `04/12/2026`, `4 de diciembre de 2026`, `Dec 4, 2026`, `2026-12-04`…); a
/// date without a year is placed near `today` (see `crate::dates`).
pub fn first_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    crate::dates::find_dates(text, today).first().map(|f| f.date)
}

/// `dd/mm/aaaa`, as the desk writes dates.
pub fn dmy(day: NaiveDate) -> String {
    day.format("%d/%m/%Y").to_string()
}

/// The first `max` characters of a text, with `…` when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let t = text.trim();
    if t.chars().count() <= max {
        return t.to_string();
    }
    let cut: String = t.chars().take(max).collect();
    format!("{cut}…")
}

/// The `desk` block every template gets.
pub fn desk_block(s: &Settings) -> Value {
    json!({"name": s.name, "address": s.address})
}

/// What an order looks like to the templates (status summaries, acknowledgements).
pub fn order_context(rb: &DeskRules, cal: &BusinessCalendar, o: &Order) -> Value {
    let regime_name =
        rb.checklist(&o.regime).map(|c| c.name.clone()).unwrap_or_else(|| format!("Régimen {}", o.regime));
    let docs: Vec<Value> = o
        .documents
        .iter()
        .map(|d| json!({"kind": d.kind, "kind_name": kind_name(&d.kind), "name": d.name, "unreadable": d.unreadable}))
        .collect();
    // Only what the client may read: commands and staff notes stay internal.
    let public: Vec<&super::model::HistoryEntry> = o.history.iter().filter(|e| e.is_public()).collect();
    let events: Vec<Value> =
        public.iter().rev().take(5).rev().map(|e| json!({"at": local_fmt(cal, e.at), "what": e.what})).collect();
    json!({
        "id": o.id, "client": o.client, "stage": o.stage, "regime": o.regime, "regime_name": regime_name,
        "references": o.references, "documents": docs, "missing": o.missing,
        "missing_names": o.missing.iter().map(|k| kind_name(k)).collect::<Vec<_>>(),
        "eta": o.eta, "vessel": o.vessel, "opened_at": local_fmt(cal, o.opened_at), "events": events,
    })
}

/// The context of an answer to a mail: the desk, the client, the sender,
/// the mail, now.
pub fn mail_context(
    s: &Settings,
    m: &Incoming<'_>,
    client: Option<&crate::clients::Client>,
    now: DateTime<Utc>,
) -> Value {
    let client = client.map(|c| json!({"id": c.id, "name": c.name})).unwrap_or(json!({"id": null, "name": null}));
    let name = m.mail.from.as_ref().map(|a| a.name.clone()).unwrap_or_default();
    json!({
        "desk": desk_block(s),
        "client": client,
        "sender": {"name": name, "address": m.mail.from_address()},
        "mail": {
            "subject": m.mail.subject,
            "date": local_fmt(&s.calendar, now),
            "excerpt": excerpt(&m.mail.new_text, 1500),
        },
        "now": local_fmt(&s.calendar, now),
    })
}

/// The context of an answer to an unverified sender: nothing the sender
/// wrote (name, subject, text) is echoed back.
pub fn stranger_context(s: &Settings, to: &str, now: DateTime<Utc>) -> Value {
    json!({
        "desk": desk_block(s),
        "client": {"id": null, "name": null},
        "sender": {"name": "", "address": to},
        "mail": {"subject": "", "date": local_fmt(&s.calendar, now), "excerpt": ""},
        "now": local_fmt(&s.calendar, now),
    })
}
