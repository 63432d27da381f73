//! Funds before third-party payments: `#pagar OC-… concepto=almacenaje
//! monto=850 moneda=PEN beneficiario=<name>` asks Administración to pay
//! (`solicitud_pago`) when the client has approved credit (`credito = true`)
//! or the advances recorded on the order cover it; otherwise the request
//! is held, the client is asked for the funds (`solicitud_fondos`) and the
//! request goes once a payment that covers it is recorded — or by
//! `#liberar OC-…`. Every step is in the order's history.

use serde_json::json;

use super::commands::amount_words;
use super::context::{desk_block, local_fmt, order_context};
use super::draft::Draft;
use super::follow::recipients;
use super::model::{HistoryEntry, Order, PaymentRequest, RequestState};
use super::reply::{Letter, Threading};
use super::view::ViewResult;

/// `1234.50` → 123450 cents.
pub fn cents(amount: &str) -> Option<i64> {
    let (int, dec) = amount.split_once('.').unwrap_or((amount, "0"));
    let dec = format!("{dec:0<2}");
    Some(int.parse::<i64>().ok()? * 100 + dec.get(..2)?.parse::<i64>().ok()?)
}

/// What the client's advances on the order leave free in `currency`: the
/// advances recorded minus the requests already sent on them.
pub fn available(o: &Order, currency: &str) -> i64 {
    let paid: i64 = o
        .money
        .payments
        .iter()
        .filter(|p| p.kind == "abono" && p.currency.as_deref() == Some(currency))
        .filter_map(|p| p.amount.as_deref().and_then(cents))
        .sum();
    let spent: i64 = o
        .money
        .requests
        .iter()
        .filter(|r| r.currency == currency && r.state != RequestState::Retenida)
        .filter_map(|r| cents(&r.amount))
        .sum();
    paid - spent
}

fn shown(r: &PaymentRequest) -> String {
    format!("{} {}", r.currency, amount_words(&r.amount))
}

/// A new request on `o`: sent, or held and the client asked for funds.
/// The confirmation line for the staff member.
pub fn request(d: &mut Draft<'_>, o: &mut Order, r: PaymentRequest) -> ViewResult<Result<String, String>> {
    let desk = d.desk;
    let credit = desk.directory.client(&o.client).is_some_and(|c| c.credito);
    let need = cents(&r.amount).unwrap_or(i64::MAX);
    let covered = credit || available(o, &r.currency) >= need;
    let what = format!("{} de {} a {}", shown(&r), r.concept, r.beneficiary);
    if covered {
        let mut r = r;
        if !send_request(d, o, &r) {
            return Ok(Err("no se pudo preparar la solicitud a administración (vea el registro)".into()));
        }
        r.state = RequestState::Enviada;
        r.sent_at = Some(d.now);
        let why = if credit { "cliente con crédito aprobado" } else { "cubierto por los abonos del cliente" };
        o.history.push(HistoryEntry::internal(
            d.now,
            format!("Solicitud de pago {} enviada a administración ({why})", what),
        ));
        o.money.requests.push(r);
        return Ok(Ok(format!("solicitud de pago {what} enviada a administración ({why})")));
    }
    let to = recipients(d, o);
    if to.is_empty() {
        return Ok(Err(format!(
            "el cliente {} no tiene crédito ni fondos, y no tiene una dirección registrada a la que pedírselos",
            o.client
        )));
    }
    let ctx = json!({
        "desk": desk_block(desk.settings),
        "client": {"id": o.client, "name": desk.directory.client(&o.client).map(|c| c.name.clone())},
        "order": order_context(&desk.rules.desk, &desk.settings.calendar, o),
        "request": {"concept": r.concept, "amount": amount_words(&r.amount), "currency": r.currency, "beneficiary": r.beneficiary},
        "now": local_fmt(&desk.settings.calendar, d.now),
        "lang": o.follow.lang.as_deref().unwrap_or("es"),
    });
    let refs = o.message_ids.clone();
    let letter = Letter {
        template: "solicitud_fondos",
        to: to.clone(),
        ctx: &ctx,
        threading: Threading::Notice { references: &refs },
        order: Some(&o.id),
        id: Some(format!("fondos-{}-{}", o.id, r.n)),
    };
    if d.send(letter).is_none() {
        return Ok(Err("no se pudo preparar el pedido de fondos al cliente (vea el registro)".into()));
    }
    o.history
        .push(HistoryEntry::public(d.now, format!("Se pidieron fondos al cliente: {} ({})", shown(&r), r.concept)));
    o.history.push(HistoryEntry::internal(
        d.now,
        format!("Solicitud de pago {what} retenida: sin crédito ni fondos; fondos pedidos a {}", to.join(", ")),
    ));
    o.money.requests.push(r);
    Ok(Ok(format!(
        "solicitud de pago {what} retenida: el cliente no tiene crédito ni fondos; se le pidieron a {}",
        to.join(", ")
    )))
}

/// A payment was recorded on `o`: the held requests it now covers go, in
/// the order they were made.
pub fn payment_arrived(d: &mut Draft<'_>, o: &mut Order) -> ViewResult<()> {
    for i in 0..o.money.requests.len() {
        let r = o.money.requests[i].clone();
        if r.state != RequestState::Retenida || available(o, &r.currency) < cents(&r.amount).unwrap_or(i64::MAX) {
            continue;
        }
        release_one(d, o, i, "fondos recibidos del cliente");
    }
    Ok(())
}

/// `#liberar OC-…`: every held request goes. How many went.
pub fn release_all(d: &mut Draft<'_>, o: &mut Order, who: &str) -> usize {
    let held: Vec<usize> =
        (0..o.money.requests.len()).filter(|i| o.money.requests[*i].state == RequestState::Retenida).collect();
    let why = format!("liberada por {who}");
    held.iter().filter(|i| release_one(d, o, **i, &why)).count()
}

fn release_one(d: &mut Draft<'_>, o: &mut Order, i: usize, why: &str) -> bool {
    let r = o.money.requests[i].clone();
    if !send_request(d, o, &r) {
        return false;
    }
    if let Some(r) = o.money.requests.get_mut(i) {
        r.state = RequestState::Liberada;
        r.sent_at = Some(d.now);
    }
    o.history.push(HistoryEntry::internal(
        d.now,
        format!("Solicitud de pago {} de {} enviada a administración ({why})", shown(&r), r.concept),
    ));
    d.note(format!("payment request {} of {} released ({why})", r.n, o.id));
    true
}

/// The request to Administración, with the order's data.
fn send_request(d: &mut Draft<'_>, o: &Order, r: &PaymentRequest) -> bool {
    let desk = d.desk;
    let to = desk.settings.administracion.clone();
    if to.is_empty() {
        d.note("payment request not sent: no administración address configured");
        return false;
    }
    let client = desk.directory.client(&o.client);
    let ctx = json!({
        "desk": desk_block(desk.settings),
        "client": {"id": o.client, "name": client.map(|c| c.name.clone()), "ruc": client.map(|c| c.ruc.clone()),
                   "credito": client.is_some_and(|c| c.credito)},
        "order": order_context(&desk.rules.desk, &desk.settings.calendar, o),
        "dam": o.references.get("dam").and_then(|v| v.iter().next().cloned()),
        "request": {"n": r.n, "concept": r.concept, "amount": amount_words(&r.amount), "currency": r.currency,
                    "beneficiary": r.beneficiary, "by": r.by, "at": local_fmt(&desk.settings.calendar, r.at)},
        "now": local_fmt(&desk.settings.calendar, d.now),
    });
    let letter = Letter {
        template: "solicitud_pago",
        to,
        ctx: &ctx,
        threading: Threading::Notice { references: &[] },
        order: Some(&o.id),
        id: Some(format!("pago-{}-{}", o.id, r.n)),
    };
    d.send(letter).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_cents() {
        assert_eq!(cents("850.00"), Some(85000));
        assert_eq!(cents("1234.5"), Some(123450));
        assert_eq!(cents("x"), None);
    }
}
