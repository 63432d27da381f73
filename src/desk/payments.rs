//! `pago`: a payment notice is a task for the client's assistant, and
//! Administración is told — with the documents the notice is about (the
//! voucher, the bank's constancia) attached, so nobody has to look for them.

use serde_json::json;

use super::Incoming;
use super::compose::Attached;
use super::context::mail_context;
use super::draft::Draft;
use super::matching::client_of;
use super::model::{HistoryEntry, Order, OrderDocument, Payment, TaskState};
use super::reply::{Letter, Threading};
use super::view::ViewResult;
use crate::clients::Sender;

/// The files of a payment notice worth forwarding: real attachments (not
/// signature images), within the attachment limit in total.
fn vouchers(m: &Incoming<'_>, max: u64) -> (Vec<Attached>, Vec<String>) {
    let mut files = Vec::new();
    let mut left_out = Vec::new();
    let mut total = 0u64;
    for a in m.mail.attachments.iter().filter(|a| !a.inline && a.container.is_none()) {
        if total + a.data.len() as u64 > max || a.data.is_empty() {
            left_out.push(a.name.clone());
            continue;
        }
        total += a.data.len() as u64;
        let ct =
            if a.content_type.is_empty() { "application/octet-stream".to_string() } else { a.content_type.clone() };
        files.push(Attached { name: a.name.clone(), content_type: ct, bytes: a.data.clone() });
    }
    (files, left_out)
}

pub fn handle(d: &mut Draft<'_>, m: &Incoming<'_>) -> ViewResult<()> {
    if let Some(orders) = verified_orders(d, m)? {
        if liquidation_paid(d, m, &orders)? {
            return Ok(());
        }
        if let [order] = orders.as_slice() {
            return advance(d, m, order.clone());
        }
    }
    let client = client_of(&m.sender);
    let summary = format!(
        "Aviso de pago de {}: {}. Confirmar con administración.",
        super::tasks::who(m),
        super::tasks::subject_words(m)
    );
    let task = d.open_task("pago", client.as_deref(), None, None, summary, m.mail.message_id.clone())?;
    let to = d.desk.settings.administracion.clone();
    if !to.is_empty() && !m.class.has("automatico") {
        let registered = super::matching::client_sender(&m.sender).and_then(|c| d.desk.directory.client(c));
        let mut ctx = mail_context(d.desk.settings, m, registered, d.now);
        let (files, left_out) = vouchers(m, d.desk.settings.max_attachment_bytes);
        ctx["attachments"] = json!(files.iter().map(|f| f.name.clone()).collect::<Vec<_>>());
        ctx["left_out"] = json!(left_out);
        let assignee = d.desk.assistant_of(client.as_deref());
        ctx["task"] = json!({"id": task, "assignee": assignee});
        d.send_with(
            Letter {
                template: "aviso_pago",
                to,
                ctx: &ctx,
                threading: Threading::Notice { references: &[] },
                order: None,
                id: None,
            },
            &files,
        );
    }
    Ok(())
}

/// The client's orders a payment mail points at — by their tag, their DAM
/// or one of their references, nothing else — when it comes from the
/// client's registered address with DMARC not failed (`None`: not such a mail).
fn verified_orders(d: &Draft<'_>, m: &Incoming<'_>) -> ViewResult<Option<Vec<Order>>> {
    let Sender::Client(client) = &m.sender else { return Ok(None) };
    if m.mail.dmarc_failed() || m.mail.is_auto() || m.class.has("automatico") {
        return Ok(None);
    }
    let mut orders = Vec::new();
    for id in super::matching::tagged_orders(&d.desk.settings.order_prefix, m.mail) {
        if let Some(o) = d.order(&id)? {
            orders.push(o);
        }
    }
    for (kind, values) in &m.class.references {
        if !super::matching::ORDER_REFS.contains(&kind.as_str()) {
            continue;
        }
        for v in values {
            orders.extend(d.orders_by_ref(kind, v)?);
        }
    }
    orders.retain(|o| o.client == *client && o.is_open());
    orders.sort_by(|a, b| a.id.cmp(&b.id));
    orders.dedup_by(|a, b| a.id == b.id);
    Ok(Some(orders))
}

/// A payment from the client's registered address (DMARC not failed) that
/// points at one of its orders — by its tag, its DAM or one of its
/// references — with an unpaid liquidation: the liquidation is paid, its
/// task closed and Administración told with the voucher. When several
/// liquidations are unpaid, the amount written in the mail picks one.
/// True when the mail was such a payment.
fn liquidation_paid(d: &mut Draft<'_>, m: &Incoming<'_>, orders: &[Order]) -> ViewResult<bool> {
    let Sender::Client(client) = &m.sender else { return Ok(false) };
    let mut orders = orders.to_vec();
    let text = format!("{}\n{}\n{}", m.mail.subject, m.mail.new_text, m.mail.forwarded_text);
    let vouchers_text: String = m.mail.attachments.iter().map(|a| a.text.as_str()).collect::<Vec<_>>().join("\n");
    let unpaid: Vec<(usize, usize)> = orders
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            o.money.liquidations.iter().enumerate().filter(|(_, l)| l.paid_at.is_none()).map(move |(j, _)| (i, j))
        })
        .collect();
    let written = |amount: &str| {
        let words = super::commands::amount_words(amount);
        let plain = amount.to_string();
        [&text, &vouchers_text].iter().any(|t| t.contains(&words) || t.contains(&plain))
    };
    let pick = match unpaid.as_slice() {
        [] => return Ok(false),
        [one] => *one,
        many => {
            match many.iter().filter(|(i, j)| written(&orders[*i].money.liquidations[*j].amount)).collect::<Vec<_>>()[..]
            {
                [one] => *one,
                _ => return Ok(false),
            }
        }
    };
    let (i, j) = pick;
    let mut o = orders.swap_remove(i);
    let desk = d.desk;
    let Some(l) = o.money.liquidations.get_mut(j) else { return Ok(false) };
    l.paid_at = Some(d.now);
    l.paid_by = Some(m.from().to_ascii_lowercase());
    let l = l.clone();
    let shown = format!("{} {}", l.currency, super::commands::amount_words(&l.amount));
    o.history.push(HistoryEntry::public(d.now, format!("Pago de la liquidación recibido ({shown})")));
    o.updated_at = d.now;
    if let Some(mid) = &m.mail.message_id
        && !o.message_ids.contains(mid)
    {
        o.message_ids.push(mid.clone());
    }
    if let Some(mut t) = d.task(&l.task)?
        && t.is_open()
    {
        t.state = TaskState::Hecha;
        t.history.push(HistoryEntry::internal(d.now, format!("Cerrada: el cliente pagó ({})", m.from())));
        d.save_task(t);
    }
    o.money.payments.push(Payment {
        at: d.now,
        amount: Some(l.amount.clone()),
        currency: Some(l.currency.clone()),
        kind: "liquidacion".into(),
        from: m.from().to_ascii_lowercase(),
        message_id: m.mail.message_id.clone(),
        vouchers: voucher_documents(d, m),
    });
    d.note(format!("liquidation of {} paid ({shown})", o.id));
    let to = desk.settings.administracion.clone();
    if to.is_empty() {
        let summary = format!(
            "Pago de la liquidación de la orden {} ({shown}) recibido; no hay dirección de administración configurada.",
            o.id
        );
        d.open_task("pago", Some(client), Some(&o.id), None, summary, m.mail.message_id.clone())?;
    } else {
        let registered = desk.directory.client(client);
        let mut ctx = mail_context(desk.settings, m, registered, d.now);
        let (files, left_out) = vouchers(m, desk.settings.max_attachment_bytes);
        ctx["attachments"] = json!(files.iter().map(|f| f.name.clone()).collect::<Vec<_>>());
        ctx["left_out"] = json!(left_out);
        ctx["task"] = json!({"id": l.task});
        ctx["order"] = super::context::order_context(&desk.rules.desk, &desk.settings.calendar, &o);
        ctx["dam"] = json!(o.references.get("dam").and_then(|v| v.iter().next().cloned()));
        ctx["liquidation"] = json!({"amount": super::commands::amount_words(&l.amount), "currency": l.currency,
                                    "due": l.due_date.format("%d/%m/%Y").to_string()});
        let id = format!("liquidacion-{}-{}-pagada", o.id, j + 1);
        d.send_with(
            Letter {
                template: "liquidacion_pagada",
                to,
                ctx: &ctx,
                threading: Threading::Notice { references: &[] },
                order: Some(&o.id),
                id: Some(id),
            },
            &files,
        );
    }
    d.save_order(o);
    Ok(true)
}

/// `S/ 850.00`, `PEN 1,234.50`, `US$ 300`, `USD 1.200,00`, `$ 45`.
static AMOUNT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    super::re(r"(?i)(S/\.?|PEN|soles|US\$|USD|\$)\s?(\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)")
});

/// The amount and currency a payment mail (or its voucher) states, if it
/// states one.
pub fn stated_amount(texts: &[&str]) -> Option<(String, String)> {
    texts.iter().find_map(|t| {
        let c = AMOUNT.captures(t)?;
        let cur = match c[1].to_ascii_uppercase().as_str() {
            "US$" | "USD" | "$" => "USD",
            _ => "PEN",
        };
        Some((super::commands::amount(&c[2])?, cur.to_string()))
    })
}

/// The vouchers of a payment mail, as the order's documents.
fn voucher_documents(d: &Draft<'_>, m: &Incoming<'_>) -> Vec<OrderDocument> {
    m.mail
        .attachments
        .iter()
        .zip(m.kept.iter().map(Some).chain(std::iter::repeat(None)))
        .filter(|(a, _)| !a.inline && a.container.is_none() && !a.data.is_empty())
        .map(|(a, k)| OrderDocument {
            kind: "constancia_pago".into(),
            name: a.name.clone(),
            sha256: a.sha256.clone(),
            path: k.map(|k| k.path.clone()).unwrap_or_default(),
            size: a.size as u64,
            received_at: d.now,
            unreadable: None,
            from: m.from().to_string(),
        })
        .collect()
}

/// An advance or deposit (abono) the client's own mail reports for one of
/// its orders: recorded on it (amount and currency when the text or the
/// voucher says them, the voucher kept), and Administración is told once.
fn advance(d: &mut Draft<'_>, m: &Incoming<'_>, mut o: Order) -> ViewResult<()> {
    let desk = d.desk;
    let vouchers_text: Vec<&str> = m.mail.attachments.iter().map(|a| a.text.as_str()).collect();
    let mut texts = vec![m.mail.subject.as_str(), m.mail.new_text.as_str()];
    texts.extend(vouchers_text);
    let stated = stated_amount(&texts);
    let payment = Payment {
        at: d.now,
        amount: stated.as_ref().map(|(a, _)| a.clone()),
        currency: stated.as_ref().map(|(_, c)| c.clone()),
        kind: "abono".into(),
        from: m.from().to_ascii_lowercase(),
        message_id: m.mail.message_id.clone(),
        vouchers: voucher_documents(d, m),
    };
    if o.money.payments.iter().any(|p| p.message_id.is_some() && p.message_id == payment.message_id) {
        d.note(format!("payment already recorded on {}", o.id));
        return Ok(());
    }
    let shown = match &stated {
        Some((a, c)) => format!("{c} {}", super::commands::amount_words(a)),
        None => "monto no indicado".to_string(),
    };
    o.history.push(HistoryEntry::public(d.now, format!("Abono recibido ({shown})")));
    o.money.payments.push(payment);
    o.updated_at = d.now;
    if let Some(mid) = &m.mail.message_id
        && !o.message_ids.contains(mid)
    {
        o.message_ids.push(mid.clone());
    }
    d.note(format!("advance recorded on {} ({shown})", o.id));
    let to = desk.settings.administracion.clone();
    let client = o.client.clone();
    if to.is_empty() {
        let summary =
            format!("Abono de la orden {} ({shown}) recibido; no hay dirección de administración configurada.", o.id);
        d.open_task("pago", Some(&client), Some(&o.id), None, summary, m.mail.message_id.clone())?;
    } else {
        let mut ctx = mail_context(desk.settings, m, desk.directory.client(&client), d.now);
        let (files, left_out) = vouchers(m, desk.settings.max_attachment_bytes);
        ctx["attachments"] = json!(files.iter().map(|f| f.name.clone()).collect::<Vec<_>>());
        ctx["left_out"] = json!(left_out);
        ctx["payment"] = json!({"order": o.id, "amount": shown});
        d.send_with(
            Letter {
                template: "aviso_pago",
                to,
                ctx: &ctx,
                threading: Threading::Notice { references: &[] },
                order: Some(&o.id),
                id: None,
            },
            &files,
        );
    }
    super::funds::payment_arrived(d, &mut o)?;
    d.save_order(o);
    Ok(())
}
