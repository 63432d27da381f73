//! What the templates see: the desk, the sender, the mail, orders, in the
//! words and formats people read (Spanish names, `dd/mm/aaaa HH:MM` in
//! Lima, a person's name in the greeting or none). One builder per block,
//! used by every handler and time job.

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
        "constancia_pago" => "Constancia de pago",
        other => other,
    }
}

/// Reference kind → the name shown to people (`container` → `Contenedor`).
pub fn ref_label(kind: &str) -> &str {
    match kind {
        "container" => "Contenedor",
        "bl" => "BL",
        "awb" => "Guía aérea (AWB)",
        "dam" => "DAM",
        "invoice" => "Factura",
        "ruc" => "RUC",
        "imo" => "IMO de la nave",
        other => other,
    }
}

/// Reference kinds that name a shipment, in the order a summary lists them.
/// (A RUC is the client's own tax number, never a shipment reference.)
pub const SHIPMENT_REFS: &[&str] = &["bl", "awb", "container", "dam", "invoice", "imo"];

/// The shipment references of a set, labelled: `[{kind, label, values}]`.
pub fn refs_block(refs: &crate::refs::References) -> Vec<Value> {
    SHIPMENT_REFS
        .iter()
        .filter_map(|k| refs.get(*k).filter(|v| !v.is_empty()).map(|v| (k, v)))
        .map(|(k, v)| json!({"kind": k, "label": ref_label(k), "values": v.iter().cloned().collect::<Vec<_>>()}))
        .collect()
}

/// Why a document could not be read, as a sentence for the client (the
/// reader's codes — `pdf_unreadable: …` — stay in the records).
pub fn unreadable_es(reason: &str) -> &'static str {
    let code = reason.split(':').next().unwrap_or("").trim();
    match code {
        "pdf_encrypted" => "el PDF está protegido con contraseña",
        "pdf_no_text" => "es una imagen escaneada sin texto legible por el sistema",
        "pdf_too_large" => "el archivo es demasiado grande para leerlo",
        "pdf_timeout" | "zip_timeout" => "el archivo tardó demasiado en abrirse",
        "pdf_unreadable" | "zip_unreadable" => "no pudimos abrir el archivo; parece dañado o incompleto",
        _ if reason.contains("bytes") => "el archivo es demasiado grande para nuestro sistema",
        _ => "no pudimos leer el archivo",
    }
}

/// The same, in English.
pub fn unreadable_en(reason: &str) -> &'static str {
    let code = reason.split(':').next().unwrap_or("").trim();
    match code {
        "pdf_encrypted" => "the PDF is password-protected",
        "pdf_no_text" => "it is a scanned image our system cannot read",
        "pdf_too_large" => "the file is too large to read",
        "pdf_timeout" | "zip_timeout" => "the file took too long to open",
        "pdf_unreadable" | "zip_unreadable" => "we could not open the file; it seems damaged or incomplete",
        _ if reason.contains("bytes") => "the file is too large for our system",
        _ => "we could not read the file",
    }
}

/// Words that say a display name is a company, a department or a machine,
/// not a person (`Andes Textil S.A.C.`, `Compras`, `Alertas CLI`).
const NOT_A_PERSON: &[&str] = &[
    "s.a.c",
    "sac",
    "s.a",
    "s.a.a",
    "s.r.l",
    "srl",
    "e.i.r.l",
    "eirl",
    "ltd",
    "ltda",
    "inc",
    "llc",
    "corp",
    "co",
    "gmbh",
    "company",
    "compania",
    "importaciones",
    "importadora",
    "exportadora",
    "comercial",
    "logistics",
    "logistica",
    "group",
    "grupo",
    "peru",
    "team",
    "equipo",
    "area",
    "compras",
    "ventas",
    "operaciones",
    "facturacion",
    "administracion",
    "gerencia",
    "contabilidad",
    "tesoreria",
    "customer",
    "service",
    "servicio",
    "notificaciones",
    "notifications",
    "alertas",
    "alerts",
    "info",
    "noreply",
    "no-reply",
    "sistema",
    "system",
    "mesa",
    "partes",
    "recepcion",
    "despachos",
    "aduanas",
    "agencia",
    "naviera",
    "shipping",
    "lines",
    "line",
    "forwarding",
    "cargo",
    "express",
    "fabrics",
    "foods",
    "textil",
    "minera",
];

/// The person's name to greet, from a display name (`Patricia Huamán`,
/// `HUAMAN, PATRICIA` → `Patricia Huaman`), or `None` when it is empty, an
/// address, a company (the client's own name included), a department or a
/// system: then the greeting is neutral — a company is never greeted as a
/// person.
pub fn person_name(display: &str, company: Option<&str>) -> Option<String> {
    let d = display.trim().trim_matches(|c| c == '"' || c == '\'').trim();
    if d.is_empty() || d.contains('@') || d.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let folded = crate::text::fold(d);
    if company.is_some_and(|c| {
        let c = crate::text::fold(c);
        folded == c || c.contains(&folded) || folded.contains(&c)
    }) {
        return None;
    }
    let words: Vec<String> = folded
        .split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')' || c == '/' || c == '|')
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_end_matches('.').to_string())
        .collect();
    if words.is_empty() || words.len() > 5 || words.iter().any(|w| NOT_A_PERSON.contains(&w.as_str())) {
        return None;
    }
    // `Apellido, Nombre` (Outlook's directory order) → `Nombre Apellido`.
    let ordered = match d.split_once(',') {
        Some((last, first)) if !first.trim().is_empty() => format!("{} {}", first.trim(), last.trim()),
        _ => d.to_string(),
    };
    let parts: Vec<&str> = ordered.split_whitespace().collect();
    if parts.len() == 1 && parts[0].chars().all(|c| !c.is_lowercase()) && parts[0].chars().count() > 3 {
        return None; // `COMPRAS`, `LOGISTICA`: a mailbox, not a person
    }
    // A name written in capitals is written the way people write names.
    let shouting = ordered.chars().filter(|c| c.is_alphabetic()).all(|c| !c.is_lowercase());
    let name = if shouting {
        parts
            .iter()
            .map(|w| {
                let mut cs = w.chars();
                match cs.next() {
                    Some(f) => f.to_uppercase().chain(cs.flat_map(char::to_lowercase)).collect::<String>(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        parts.join(" ")
    };
    Some(name)
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
        "references": o.references, "refs": refs_block(&o.references), "documents": docs, "missing": o.missing,
        "missing_names": o.missing.iter().map(|k| kind_name(k)).collect::<Vec<_>>(),
        "eta": o.eta, "vessel": o.vessel, "opened_at": local_fmt(cal, o.opened_at), "events": events,
        "payments": o.money.payments.iter().map(|p| json!({
            "at": local_fmt(cal, p.at), "kind": p.kind, "currency": p.currency,
            "amount": p.amount.as_deref().map(super::commands::amount_words),
        })).collect::<Vec<_>>(),
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
    let company = client.map(|c| c.name.as_str());
    let client = client.map(|c| json!({"id": c.id, "name": c.name})).unwrap_or(json!({"id": null, "name": null}));
    let name = m.mail.from.as_ref().map(|a| a.name.clone()).unwrap_or_default();
    let person = person_name(&name, company);
    json!({
        "desk": desk_block(s),
        "client": client,
        "sender": {"name": name, "address": m.mail.from_address(), "person": person},
        "mail": {
            "subject": m.mail.subject,
            "topic": super::subjects::topic(&m.mail.subject),
            "date": local_fmt(&s.calendar, now),
            "excerpt": excerpt(&m.mail.new_text, 1500),
            "message_id": m.mail.message_id,
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
        "sender": {"name": "", "address": to, "person": null},
        "mail": {"subject": "", "topic": "", "date": local_fmt(&s.calendar, now), "excerpt": "", "message_id": null},
        "now": local_fmt(&s.calendar, now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_person_is_greeted_by_name() {
        let cases = [
            ("Patricia Huamán", Some("Andes Textil S.A.C."), Some("Patricia Huamán")),
            ("Andes Textil S.A.C.", Some("Andes Textil S.A.C."), None),
            ("ANDES TEXTIL", Some("Andes Textil S.A.C."), None),
            ("Pacific Foods S.A.C.", None, None),
            ("Compras", None, None),
            ("COMPRAS", None, None),
            ("Logística - Minera Altiplano", None, None),
            ("Alertas CLI", None, None),
            ("HUAMAN, PATRICIA", None, Some("Patricia Huaman")),
            ("PATRICIA HUAMAN", None, Some("Patricia Huaman")),
            ("\"Luis Castro\"", None, Some("Luis Castro")),
            ("phuaman@andestextil.test", None, None),
            ("", None, None),
            ("Hapag-Lloyd Peru", None, None),
            ("Guangzhou Fabrics Ltd.", None, None),
            ("John Smith", None, Some("John Smith")),
            ("Ana", None, Some("Ana")),
        ];
        for (display, company, want) in cases {
            assert_eq!(person_name(display, company).as_deref(), want, "{display}");
        }
    }

    #[test]
    fn unreadable_documents_get_a_sentence_not_a_code() {
        assert_eq!(
            unreadable_es("pdf_unreadable: failed parsing cross reference table"),
            "no pudimos abrir el archivo; parece dañado o incompleto"
        );
        assert_eq!(unreadable_es("pdf_encrypted: password-protected PDF"), "el PDF está protegido con contraseña");
        assert_eq!(
            unreadable_es("52000000 bytes, over the 41943040-byte limit"),
            "el archivo es demasiado grande para nuestro sistema"
        );
        assert_eq!(unreadable_en("pdf_encrypted: x"), "the PDF is password-protected");
    }

    #[test]
    fn shipment_references_are_labelled_in_spanish_and_the_ruc_is_left_out() {
        let mut refs = crate::refs::References::new();
        refs.entry("container".into()).or_default().insert("HLXU1234561".into());
        refs.entry("invoice".into()).or_default().insert("AT-5521".into());
        refs.entry("ruc".into()).or_default().insert("20601234565".into());
        let b = refs_block(&refs);
        let labels: Vec<&str> = b.iter().filter_map(|v| v["label"].as_str()).collect();
        assert_eq!(labels, vec!["Contenedor", "Factura"]);
    }
}
