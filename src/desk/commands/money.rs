//! The money of an order by command: `#liquidacion OC-… monto=1234.50
//! moneda=PEN vence=dd/mm/aaaa` with the liquidation's PDF attached (or
//! SUNAT's mail forwarded with it) sends it to the client with the amount
//! and the deadline, records it on the order and opens a task with that
//! deadline (reminders per `rules/checklists.toml`, alert kind
//! `liquidacion`; the executive is told if it is unpaid on the deadline).
//! `#pagar OC-… concepto= monto= moneda= beneficiario=` asks Administración
//! to pay a third party once the client's funds are there (`desk::funds`);
//! `#liberar OC-…` sends the held requests anyway.

use serde_json::json;

use super::super::Incoming;
use super::super::compose::Attached;
use super::super::context::{desk_block, local_fmt, order_context};
use super::super::draft::Draft;
use super::super::follow::recipients;
use super::super::model::{HistoryEntry, Liquidation};
use super::super::reply::{Letter, Threading};
use super::super::view::ViewResult;
use super::{Command, Done, entry};

/// Currencies a liquidation is written in.
pub const CURRENCIES: &[&str] = &["PEN", "USD"];

/// The task kind of a liquidation (its reminders: alert kind `liquidacion`).
pub const TASK_KIND: &str = "alerta_liquidacion";

/// `1234.50`, `1,234.50`, `1234,50`, `S/ 1 234.5` → `1234.50` (two decimals).
pub fn amount(text: &str) -> Option<String> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let t = t.trim_start_matches("S/").trim_start_matches("US$").trim_start_matches('$');
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || c == '.' || c == ',') {
        return None;
    }
    // The last separator followed by one or two digits is the decimal one.
    let (int, dec) = match t.rfind(['.', ',']) {
        Some(i) if t.len() - i - 1 <= 2 => (&t[..i], &t[i + 1..]),
        _ => (t, ""),
    };
    let int: String = int.chars().filter(char::is_ascii_digit).collect();
    if int.is_empty() || int.len() > 12 {
        return None;
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    Some(format!("{int}.{dec:0<2}"))
}

/// `1234.50` → `1,234.50` (as Peruvian invoices write it).
pub fn amount_words(a: &str) -> String {
    let (int, dec) = a.split_once('.').unwrap_or((a, "00"));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{out}.{dec}")
}

/// The PDFs of a command mail (the liquidation, or SUNAT's attached to a forward).
fn pdfs<'a>(m: &Incoming<'a>) -> Vec<(usize, &'a crate::mail::Attachment)> {
    m.mail
        .attachments
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.inline && !a.data.is_empty())
        .filter(|(_, a)| {
            a.content_type.eq_ignore_ascii_case("application/pdf") || a.name.to_ascii_lowercase().ends_with(".pdf")
        })
        .collect()
}

pub fn liquidation(d: &mut Draft<'_>, c: &Command, who: &str, m: &Incoming<'_>) -> ViewResult<Done> {
    let desk = d.desk;
    let cal = &desk.settings.calendar;
    let today = cal.local_date(d.now);
    let Some(mut o) = d.order(&c.target)? else {
        return Ok(Err(format!("no existe la orden {}", c.target)));
    };
    let (mut monto, mut moneda, mut vence) = (None, None, None);
    for kv in c.rest.split_whitespace() {
        match kv.split_once('=') {
            Some(("monto", v)) => match amount(v) {
                Some(a) => monto = Some(a),
                None => return Ok(Err(format!("monto inválido «{v}» (p. ej. monto=1234.50)"))),
            },
            Some(("moneda", v)) => {
                let cur = v.to_ascii_uppercase();
                if !CURRENCIES.contains(&cur.as_str()) {
                    return Ok(Err(format!("moneda «{v}» desconocida; use moneda=PEN o moneda=USD")));
                }
                moneda = Some(cur);
            }
            Some(("vence", v)) => match crate::dates::parse_date_on(v, today) {
                Some(day) => vence = Some(day),
                None => return Ok(Err(format!("fecha inválida «{v}» (vence=dd/mm/aaaa)"))),
            },
            _ => {
                let key = kv.split('=').next().unwrap_or(kv);
                let hint = super::super::suggest::did_you_mean(key, &["monto", "moneda", "vence"]);
                return Ok(Err(format!("no entiendo «{kv}».{hint} Use monto=, moneda=, vence=")));
            }
        }
    }
    let (Some(monto), Some(moneda), Some(vence)) = (monto, moneda, vence) else {
        return Ok(Err("faltan datos: #liquidacion OC-… monto=1234.50 moneda=PEN vence=dd/mm/aaaa".into()));
    };
    if vence < today {
        return Ok(Err(format!("la fecha de vencimiento {} ya pasó", vence.format("%d/%m/%Y"))));
    }
    let files = pdfs(m);
    let Some((index, pdf)) = files.first().copied() else {
        return Ok(Err("adjunte el PDF de la liquidación (o reenvíe el correo de SUNAT con el PDF)".into()));
    };
    let to = recipients(d, &o);
    if to.is_empty() {
        return Ok(Err(format!(
            "el cliente {} no tiene una dirección registrada a la que enviar la liquidación",
            o.client
        )));
    }
    let due_at = cal.at_local(vence, cal.day_end);
    let when = vence.format("%d/%m/%Y").to_string();
    let shown = format!("{moneda} {}", amount_words(&monto));
    let summary = format!("Cobrar la liquidación de la orden {} ({shown}), vence el {when}", o.id);
    let (client, id) = (o.client.clone(), o.id.clone());
    let task = d.open_task(TASK_KIND, Some(&client), Some(&id), Some(due_at), summary, None)?;
    let n = o.money.liquidations.len() + 1;
    let ctx = json!({
        "desk": desk_block(desk.settings),
        "client": {"id": o.client, "name": desk.directory.client(&o.client).map(|c| c.name.clone())},
        "order": order_context(&desk.rules.desk, cal, &o),
        "dam": o.references.get("dam").and_then(|v| v.iter().next().cloned()),
        "liquidation": {"amount": amount_words(&monto), "currency": moneda, "due": when, "file": pdf.name},
        "now": local_fmt(cal, d.now),
        "lang": o.follow.lang.as_deref().unwrap_or("es"),
    });
    let ct = if pdf.content_type.is_empty() { "application/pdf".to_string() } else { pdf.content_type.clone() };
    let attached = [Attached { name: pdf.name.clone(), content_type: ct, bytes: pdf.data.clone() }];
    let refs = o.message_ids.clone();
    let letter = Letter {
        template: "liquidacion",
        to: to.clone(),
        ctx: &ctx,
        threading: Threading::Notice { references: &refs },
        order: Some(&id),
        id: Some(format!("liquidacion-{id}-{n}")),
    };
    let Some(sent) = d.send_with(letter, &attached) else {
        return Ok(Err("no se pudo preparar el correo de la liquidación (vea el registro)".into()));
    };
    if !o.message_ids.contains(&sent) {
        o.message_ids.push(sent);
    }
    let kept = m.kept.get(index).map(|k| k.path.clone()).filter(|p| !p.is_empty());
    o.money.liquidations.push(Liquidation {
        amount: monto,
        currency: moneda,
        due_date: vence,
        due_at,
        registered_at: d.now,
        by: who.to_string(),
        document: Some(kept.map(|p| format!("{} ({p})", pdf.name)).unwrap_or_else(|| pdf.name.clone())),
        task: task.clone(),
        paid_at: None,
        paid_by: None,
    });
    o.history.push(HistoryEntry::public(d.now, format!("Liquidación enviada: {shown}, vence el {when}")));
    o.history.push(entry(d, who, format!("Comando #liquidacion {}", c.rest)));
    o.updated_at = d.now;
    let msg = format!(
        "liquidación de la orden {} ({shown}, vence el {when}) enviada a {} (tarea {task})",
        o.id,
        to.join(", ")
    );
    d.save_order(o);
    Ok(Ok(msg))
}

/// `#pagar OC-… concepto=almacenaje monto=850 moneda=PEN beneficiario=<name>`.
pub fn pay(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let Some(mut o) = d.order(&c.target)? else {
        return Ok(Err(format!("no existe la orden {}", c.target)));
    };
    // The beneficiary is the rest of the line after `beneficiario=` (a name has spaces).
    let (head, beneficiary) = match c.rest.split_once("beneficiario=") {
        Some((h, b)) => (h, b.trim().to_string()),
        None => (c.rest.as_str(), String::new()),
    };
    let (mut concepto, mut monto, mut moneda) = (None, None, None);
    for kv in head.split_whitespace() {
        match kv.split_once('=') {
            Some(("concepto", v)) if !v.is_empty() => concepto = Some(v.to_string()),
            Some(("monto", v)) => match amount(v) {
                Some(a) => monto = Some(a),
                None => return Ok(Err(format!("monto inválido «{v}» (p. ej. monto=850)"))),
            },
            Some(("moneda", v)) => {
                let cur = v.to_ascii_uppercase();
                if !CURRENCIES.contains(&cur.as_str()) {
                    return Ok(Err(format!("moneda «{v}» desconocida; use moneda=PEN o moneda=USD")));
                }
                moneda = Some(cur);
            }
            _ => {
                let key = kv.split('=').next().unwrap_or(kv);
                let hint = super::super::suggest::did_you_mean(key, &["concepto", "monto", "moneda", "beneficiario"]);
                return Ok(Err(format!("no entiendo «{kv}».{hint} Use concepto=, monto=, moneda=, beneficiario=")));
            }
        }
    }
    let (Some(concept), Some(amount), Some(currency), false) = (concepto, monto, moneda, beneficiary.is_empty()) else {
        return Ok(Err(
            "faltan datos: #pagar OC-… concepto=almacenaje monto=850 moneda=PEN beneficiario=<nombre>".into()
        ));
    };
    if beneficiary.chars().count() > 80 {
        return Ok(Err("el beneficiario debe tener hasta 80 caracteres".into()));
    }
    let r = super::super::model::PaymentRequest {
        n: o.money.requests.len() as u32 + 1,
        concept,
        amount,
        currency,
        beneficiary,
        by: who.to_string(),
        at: d.now,
        state: super::super::model::RequestState::Retenida,
        sent_at: None,
    };
    let done = super::super::funds::request(d, &mut o, r)?;
    if done.is_ok() {
        o.history.push(entry(d, who, format!("Comando #pagar {}", c.rest)));
        o.updated_at = d.now;
        d.save_order(o);
    }
    Ok(done)
}

/// `#liberar OC-…`: the order's held payment requests go to Administración.
pub fn release(d: &mut Draft<'_>, c: &Command, who: &str) -> ViewResult<Done> {
    let Some(mut o) = d.order(&c.target)? else {
        return Ok(Err(format!("no existe la orden {}", c.target)));
    };
    let n = super::super::funds::release_all(d, &mut o, who);
    if n == 0 {
        return Ok(Err(format!("la orden {} no tiene solicitudes de pago retenidas", o.id)));
    }
    o.history.push(entry(d, who, format!("Comando #liberar {}", c.rest).trim().to_string()));
    o.updated_at = d.now;
    let id = o.id.clone();
    d.save_order(o);
    Ok(Ok(format!(
        "{n} {} de la orden {id} enviada a administración",
        if n == 1 { "solicitud de pago" } else { "solicitudes de pago" }
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_as_offices_write_them() {
        assert_eq!(amount("1234.50").as_deref(), Some("1234.50"));
        assert_eq!(amount("1,234.50").as_deref(), Some("1234.50"));
        assert_eq!(amount("1234,5").as_deref(), Some("1234.50"));
        assert_eq!(amount("S/1234").as_deref(), Some("1234.00"));
        assert_eq!(amount("12.345.678,90").as_deref(), Some("12345678.90"));
        assert_eq!(amount("mil"), None);
        assert_eq!(amount(""), None);
        assert_eq!(amount_words("1234567.05"), "1,234,567.05");
        assert_eq!(amount_words("850.00"), "850.00");
    }
}
